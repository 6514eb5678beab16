import json, subprocess, sys, os
import os; F=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures")
for e in sorted(os.listdir(F+"/expected")):
    exp=json.load(open(f"{F}/expected/{e}")); tar=f"{F}/{exp['archive']}"
    d=json.loads(subprocess.run(["./layerscope","report","--format","json",tar],capture_output=True).stdout)
    i=d["image"]; x=exp["dive_compatible_expected"]; probs=[]
    got={"efficiency":round(i["dive"]["efficiency"],5),"image_size_bytes":i["dive"]["image_size_bytes"],
         "inefficient_paths":len(i["dive"]["inefficient_files"]),"layer_count":len(d["layers"]),
         "layer_sizes":[l["size_bytes"] for l in d["layers"]],
         "user_wasted_percent":None if i["dive"]["user_wasted_percent"] is None else round(i["dive"]["user_wasted_percent"],6),
         "wasted_bytes":i["dive"]["wasted_bytes"]}
    for k,v in x.items():
        g=got.get(k)
        if isinstance(v,float) and isinstance(g,float):
            if abs(v-g)>1e-5: probs.append(f"{k}: expected {v} got {g}")
        elif v!=g: probs.append(f"{k}: expected {v} got {g}")
    for li,(el,l) in enumerate(zip(exp.get("layers",[]),d["layers"])):
        mine={c["path"]:c["status"] for c in l["changes"] if c["status"]!="unchanged"}
        ex=el.get("changes",{})
        for p in sorted(set(mine)|set(ex)):
            if mine.get(p)!=ex.get(p): probs.append(f"layer {li} {p}: expected {ex.get(p)} got {mine.get(p)}")
        if "size_bytes" in el and el["size_bytes"]!=l["size_bytes"]: probs.append(f"layer {li} size expected {el['size_bytes']} got {l['size_bytes']}")
    ft=exp.get("final_tree")
    if ft:
        c=i["corrected"]
        if (c["final_files"],c["final_bytes"])!=(ft["regular_files"],ft["bytes"]): probs.append(f"final_tree expected {ft} got {c['final_files']},{c['final_bytes']}")
    print(exp["archive"], "OK" if not probs else "MISMATCH"); [print("   ",p) for p in probs[:20]]
