#!/usr/bin/env python3
"""Run layerscope and dive 0.13.1 on every archive given; print a comparison table and
every discrepancy. Usage: compare.py LAYERSCOPE ARCHIVE... (results cached in ./res/)."""
import json, os, re, subprocess, sys, hashlib

LS = sys.argv[1]
RES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "res")
os.makedirs(RES, exist_ok=True)


def run(cmd, **kw):
    return subprocess.run(["nice", "-n", "10"] + cmd, capture_output=True, **kw)


def key(path):
    return hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:10] + "-" + os.path.basename(path.rstrip("/"))


def layerscope(path):
    k = key(path)
    out, dj = f"{RES}/{k}.ls.json", f"{RES}/{k}.lsdive.json"
    for f in (out, dj):
        if os.path.exists(f):
            os.remove(f)
    p = run([LS, "report", "--format", "json", "-o", out, "--dive-json", dj, path])
    if p.returncode != 0:
        return {"error": p.stderr.decode(errors="replace").strip(), "rc": p.returncode}
    d = json.load(open(out))
    d["_divejson"] = json.load(open(dj))
    return d


def dive(path):
    if os.path.isdir(path):
        return {"error": "dive: no docker-archive source for a directory"}
    k = key(path)
    dj = f"{RES}/{k}.dive.json"
    env = dict(os.environ, CI="true")
    p = run(["dive", "--source", "docker-archive", path], env=env, timeout=300)
    txt = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))
    m = {}
    for name, rx in [("efficiency", r"efficiency: (\S+) %"), ("wasted", r"wastedBytes: (\d+) bytes"),
                     ("uwp", r"userWastedPercent: (\S+) %")]:
        mm = re.search(rx, txt)
        if mm:
            m[name] = float(mm.group(1))
    if "efficiency" not in m:
        return {"error": "dive CI failed: " + txt.strip().splitlines()[-1] if txt.strip() else "dive CI: no output"}
    ineff = [l for l in txt.split("Inefficient Files:")[1].split("Results:")[0].strip().splitlines()[1:] if l.strip() != "None"] if "Inefficient Files:" in txt else []
    m["ci_ineff"] = len(ineff)
    if os.path.exists(dj):
        os.remove(dj)  # dive 0.13.1 does not truncate an existing --json file
    p2 = run(["dive", "--source", "docker-archive", path, "--json", dj], timeout=300)
    if p2.returncode == 0 and os.path.exists(dj):
        m["json"] = json.load(open(dj))
    return m


def figures(path):
    ls, dv = layerscope(path), dive(path)
    return ls, dv


def fmt(x, n=4):
    return "-" if x is None else (f"{x:.{n}f}" if isinstance(x, float) else str(x))


TWINS = {}
NITS = set()


def row_key(row):
    return (row[1], round(row[3], 4), row[5], round(row[7], 4) if row[7] is not None else None, row[9])


def main():
    rows, problems = [], []
    for path in sorted(sys.argv[2:], key=lambda p: (not p.endswith(".docker.tar"), p)):
        name = os.path.relpath(path)
        ls, dv = figures(path)
        if "error" in ls:
            problems.append(f"{name}: layerscope FAILED rc={ls['rc']}: {ls['error']}")
            rows.append((name, "ERROR", "", "", "", "", "", "", "", "", "", ""))
            continue
        d = ls["image"]["dive"]
        lsz = [l["size_bytes"] for l in ls["layers"]]
        lcmd = [l["command"] for l in ls["layers"]]
        row = [name, d["image_size_bytes"], None, d["efficiency"] * 100, None, d["wasted_bytes"], None,
               (d["user_wasted_percent"] * 100 if d["user_wasted_percent"] is not None else None), None, len(d["inefficient_files"]), None, len(lsz)]
        if "error" in dv:
            problems.append(f"{name}: dive: {dv['error']}")
        else:
            dj = dv.get("json", {})
            img = dj.get("image", {})
            row[2] = img.get("sizeBytes")
            row[4] = dv["efficiency"]
            row[6] = dv["wasted"]
            row[8] = dv["uwp"]
            row[10] = dv["ci_ineff"]
            checks = [("image size", d["image_size_bytes"], img.get("sizeBytes")),
                      ("efficiency %", round(d["efficiency"] * 100, 4), round(dv["efficiency"], 4)),
                      ("wasted bytes", d["wasted_bytes"], int(dv["wasted"])),
                      ("user wasted %", round(d["user_wasted_percent"] * 100, 4) if d["user_wasted_percent"] is not None else None, round(dv["uwp"], 4)),
                      ("inefficient paths", len(d["inefficient_files"]), dv["ci_ineff"])]
            dl = dj.get("layer", [])
            checks.append(("layer sizes", lsz, [l["sizeBytes"] for l in dl]))
            checks.append(("layer commands", lcmd, [l["command"] for l in dl]))
            dsz = checks[5][2]
            scrambled = sorted(lsz) == sorted(dsz) and lsz != dsz
            twin = TWINS.get(name.split(".")[0].replace("out/", ""))
            bad = [(w, a, b) for w, a, b in checks if a != b]
            if scrambled:
                problems.append(f"{name}: dive read the layers in another order {checks[5][2]} (layerscope, manifest order: {lsz}); "
                                f"{len(bad)} figure(s) differ from dive on this file" +
                                (f"; layerscope equals dive on the docker twin: {twin == row_key(row)}" if twin else ""))
                row[-1] = f"{len(lsz)} (dive order scrambled)"
            else:
                for what, a, b in bad:
                    problems.append(f"{name}: {what}: layerscope={a} dive={b}")
            if not bad and name.endswith(".docker.tar"):
                TWINS[name.split(".")[0].replace("out/", "")] = row_key(row)
            # layerscope's own dive-json vs dive's document
            mine = ls["_divejson"]
            if not scrambled and mine.get("image") != img:
                a, b = mine.get("image", {}), img
                for k2 in sorted(set(a) | set(b)):
                    if a.get(k2) != b.get(k2):
                        va, vb = a.get(k2), b.get(k2)
                        if k2 == "fileReference":
                            sa = {(x["file"], x["count"], x["sizeBytes"]) for x in va or []}
                            sb = {(x["file"], x["count"], x["sizeBytes"]) for x in vb or []}
                            if sa == sb:
                                NITS.add("--dive-json image.fileReference: equal sizes are ordered differently (dive: unspecified tie order)")
                                continue
                            va, vb = sorted(sa - sb), sorted(sb - sa)
                        problems.append(f"{name}: --dive-json image.{k2}: layerscope={va} dive={vb}")
            if dl and "fileList" in dl[0] and "fileList" not in mine.get("layer", [{}])[0]:
                NITS.add("--dive-json: layerscope omits layer[].fileList (dive writes it)")
            ids = [(a.get("id"), b.get("id")) for a, b in zip(mine.get("layer", []), dl) if a.get("id") != b.get("id")]
            if ids:
                NITS.add(f"--dive-json layer[].id: layerscope writes the bare digest hex; dive writes the member name (e.g. {ids[0][1]!r} in {name})")
            strip = lambda L: [{k: v for k, v in x.items() if k not in ("fileList", "id")} for x in L]
            mine["layer"], dl = strip(mine.get("layer", [])), strip(dl)
            if not scrambled and mine.get("layer") != dl:
                for i, (a, b) in enumerate(zip(mine.get("layer", []), dl)):
                    if a != b:
                        problems.append(f"{name}: --dive-json layer[{i}]: layerscope={a} dive={b}")
                if len(mine.get("layer", [])) != len(dl):
                    problems.append(f"{name}: --dive-json layer count {len(mine.get('layer', []))} vs {len(dl)}")
        for w in ls["image"].get("warnings", []):
            problems.append(f"{name}: layerscope warning: {w}")
        rows.append(row)
    hdr = ["archive", "size ls", "size dive", "eff% ls", "eff% dive", "wasted ls", "wasted dive",
           "uw% ls", "uw% dive", "ineff ls", "ineff dive", "layers"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in rows:
        print("| " + " | ".join(fmt(x) for x in r) + " |")
    print()
    for p in problems:
        print("-", p)
    print()
    for n in sorted(NITS):
        print("* nit:", n)


main()
