#!/usr/bin/env bash
# A registry image read by layerscope vs the plain download of its blobs,
# side by side in one run:
#
#   bench/registry.sh [SIZE] [LAYERS] [RATE_MB_S]     # default 300M 6 40
#
# 1. generates an OCI archive with gzip layers (examples/gen), starts a
#    private registry on loopback (scripts/registry.sh) and pushes it with
#    skopeo;
# 2. times, straight from the registry (loopback: no network limit) and
#    through a proxy that holds all connections together to RATE_MB_S (what
#    a registry on a real network gives):
#      - `skopeo copy docker://… dir:DEST` (downloads and verifies every blob),
#      - curl of every blob, 4 at a time,
#      - `layerscope report --format json` with no cache (streams, decodes,
#        hashes and verifies every layer), and again with a warm cache;
# 3. times the explorer's first frame on the registry reference
#    (scripts/first-frame.sh) next to the download of the first layer alone.
#
# Needs docker-registry, skopeo, curl, python3, tmux; a release build
# (PROFILE=debug uses target/debug: the dependencies, where the decoding and
# hashing happen, are optimised there too).
set -euo pipefail
size=${1:-300M}
layers=${2:-6}
rate=${3:-40}
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${PROFILE:-release}
bin=$root/target/$profile/layerscope
gen=$root/target/$profile/examples/gen
[ -x "$bin" ] && [ -x "$gen" ] || { echo "build first: cargo build --release --bin layerscope --example gen" >&2; exit 2; }
work=$(mktemp -d)
proxy_pid=
cleanup() {
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
    "$root/scripts/registry.sh" stop "$work/reg" || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
"$root/scripts/registry.sh" start "$work/reg" "$addr"

"$gen" synth --layers "$layers" --entries 40000 --size "$size" --format oci-gzip --out "$work/img.tar" >/dev/null
HOME=$work skopeo --insecure-policy copy -q --preserve-digests --dest-tls-verify=false \
    "oci-archive:$work/img.tar" "docker://$addr/bench:1"

# A proxy that shares RATE_MB_S among all its connections.
python3 - "$pport" "$addr" "$rate" <<'PY' &
import socket, sys, threading, time
lport, (uh, up), rate = int(sys.argv[1]), sys.argv[2].split(":"), float(sys.argv[3]) * 1e6
lock = threading.Lock()
state = {"t": time.monotonic(), "tokens": 0.0}
def take(n):
    while True:
        with lock:
            now = time.monotonic()
            state["tokens"] = min(rate / 10, state["tokens"] + (now - state["t"]) * rate)
            state["t"] = now
            if state["tokens"] >= n:
                state["tokens"] -= n
                return
            wait = (n - state["tokens"]) / rate
        time.sleep(wait)
def pump(src, dst, limit):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if limit:
                take(len(b))
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lport))
srv.listen(64)
while True:
    c, _ = srv.accept()
    u = socket.create_connection((uh, int(up)))
    threading.Thread(target=pump, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, True), daemon=True).start()
PY
proxy_pid=$!
sleep 0.5

accept='application/vnd.oci.image.manifest.v1+json'
blobs=$(curl -sf -H "Accept: $accept" "http://$addr/v2/bench/manifests/1" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["config"]["digest"]); [print(l["digest"]) for l in m["layers"]]')
first_layer=$(echo "$blobs" | sed -n 2p)
total=$(curl -sf -H "Accept: $accept" "http://$addr/v2/bench/manifests/1" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]))')
echo "build: $profile; image: $layers layers, $size of files, $((total / 1000000)) MB of gzip blobs; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

secs() { python3 -c 'import sys,time,subprocess; t=time.time(); r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(f"{time.time()-t:.2f}" if r.returncode == 0 else f"FAILED({r.returncode})")' "$@"; }

row() { printf '| %-28s | %-44s | %8s s |\n' "$1" "$2" "$3"; }
echo
echo "| where | what | wall |"
echo "|---|---|---|"
row "local file" "layerscope report of the pushed OCI archive" "$(XDG_CACHE_HOME=$work/c0 HOME=$work secs "$bin" report "$work/img.tar" --format json)"
for where in loopback "proxy ${rate} MB/s"; do
    a=$addr; [ "$where" = loopback ] || a=127.0.0.1:$pport
    rm -rf "$work/dir"
    row "$where" "skopeo copy docker://… dir:" "$(HOME=$work secs skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$a/bench:1" "dir:$work/dir")"
    row "$where" "curl of every blob, 4 at a time" "$(secs bash -c "echo '$blobs' | xargs -P 4 -I D curl -sf -o /dev/null http://$a/v2/bench/blobs/D")"
    row "$where" "curl of the first layer alone" "$(secs curl -sf -o /dev/null "http://$a/v2/bench/blobs/$first_layer")"
    row "$where" "layerscope report (no cache)" "$(XDG_CACHE_HOME=$work/c1 HOME=$work secs "$bin" report "registry://$a/bench:1" --format json --cache-size 0)"
    rm -rf "$work/c2"
    XDG_CACHE_HOME=$work/c2 HOME=$work "$bin" report "registry://$a/bench:1" --format json >/dev/null
    row "$where" "layerscope report (warm cache)" "$(XDG_CACHE_HOME=$work/c2 HOME=$work secs "$bin" report "registry://$a/bench:1" --format json)"
    row "$where" "layerscope --hash files (no cache)" "$(XDG_CACHE_HOME=$work/c1 HOME=$work secs "$bin" report "registry://$a/bench:1" --format json --cache-size 0 --hash files)"
done
echo
if command -v tmux >/dev/null; then
    echo "explorer's first frame on registry://127.0.0.1:$pport/bench:1 (through the proxy):"
 XDG_CACHE_HOME=$work/c3 HOME=$work LAYERSCOPE=$bin "$root/scripts/first-frame.sh" "registry://127.0.0.1:$pport/bench:1" 3 2>&1 | sed 's/^/  /' || true
fi
