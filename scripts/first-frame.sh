#!/usr/bin/env bash
# Time from launching the explorer under tmux to its first frame on screen
# (tmux's own overhead included), e.g. on a big archive:
#
#   scripts/first-frame.sh IMAGE [RUNS]
#
# The first frame is the loading screen; loading goes on in the background.
set -euo pipefail
img=${1:?usage: scripts/first-frame.sh IMAGE [RUNS]}
# A reference (registry://…) is passed as it is.
[ -e "$img" ] && img=$(realpath "$img")
runs=${2:-5}
bin=${LAYERSCOPE:-$(cd "$(dirname "$0")/.." && pwd)/target/release/layerscope}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
s=ff$$
for _ in $(seq "$runs"); do
  tmux kill-session -t "$s" 2>/dev/null || true
rm -f "/tmp/$s.t0"
  rm -f "/tmp/$s.t0"
  # The shell writes the clock just before exec'ing the binary.
  tmux new-session -d -s "$s" -x 120 -y 40 \
    "sleep 0.3; python3 -c 'import time; print(time.time())' > /tmp/$s.t0.tmp && mv /tmp/$s.t0.tmp /tmp/$s.t0 && exec $bin $img"
  python3 - "$s" <<'PY'
import os, subprocess, sys, time
s = sys.argv[1]
t0file = f"/tmp/{s}.t0"
while not os.path.exists(t0file):
    time.sleep(0.001)
t0 = float(open(t0file).read())
while not subprocess.run(["tmux", "capture-pane", "-p", "-t", s], capture_output=True, text=True).stdout.strip():
    pass
print(f"first frame after {1000 * (time.time() - t0):.1f} ms")
PY
  tmux send-keys -t "$s" q
  sleep 0.3
done
tmux kill-session -t "$s" 2>/dev/null || true
rm -f "/tmp/$s.t0"
