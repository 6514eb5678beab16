import json,sys
d=json.load(open(sys.argv[1]))
for h in d["image"]["history"]: print("  H", h["empty_layer"], h["created_by"])
for l in d["layers"]:
    f=l["figures"]
    print(f"L{l['index']} {l['command']!r} size={l['size_bytes']} entries={l['entries']} " + " ".join(f"{k}={f[k]['count']}/{f[k]['bytes']}" for k in ("added","modified","deleted","metadata","unchanged")) + f" recl={f['reclaimable_bytes']}")
    for c in l["changes"]:
        print(f"   {c['status']:9} {str(c['kind']):8} {str(c['size_bytes']):>7} {str(c['mode'])} {c['path']}" + (f" -> {c['link_target']}" if c['link_target'] else ""))
c=d["image"]["corrected"]; print("corrected:", {k:v for k,v in c.items() if k!="top_wasted"})
print("top_wasted:", [(t["path"],t["wasted_bytes"],t["layers"]) for t in c["top_wasted"]])
