#!/usr/bin/env bash
# Run the stable fuzz harness (examples/fuzz.rs) for SECONDS (default 600).
# Findings land in target/fuzz/crashes/; the harness is restarted with a new
# seed after a crash that kills it (stack overflow, abort, out of memory),
# and the input it was running is saved first.
# Usage: scripts/fuzz.sh [SECONDS] [MEMORY_LIMIT_KB]
set -u
secs=${1:-600}
mem_kb=${2:-4000000}
cd "$(dirname "$0")/.."
out=target/fuzz
mkdir -p "$out/crashes"
cargo build --example fuzz || exit 2
bin=target/debug/examples/fuzz
end=$(( $(date +%s) + secs ))
status=0
while :; do
    left=$(( end - $(date +%s) ))
    [ "$left" -le 0 ] && break
    seed=$(( $(date +%s%N) % 1000000007 ))
    ( ulimit -v "$mem_kb"; exec nice "$bin" --seconds "$left" --seed "$seed" --out "$out" )
    rc=$?
    case $rc in
        0) ;;
        1) status=1 ;;  # findings saved by the harness
        3) status=1 ;;  # hang saved by the harness
        *) status=1
           dst="$out/crashes/killed-$seed-rc$rc.tar"
           cp "$out/current.tar" "$dst" && echo "process died (rc $rc); input saved as $dst" ;;
    esac
done
echo "fuzz: finished; findings in $out/crashes:"
ls -1 "$out/crashes" | head -50
exit $status
