#!/usr/bin/env bash
# Screenshots of the real TUI on the sample image: runs the binary under
# tmux, types keys, captures the screen with its colours (capture-pane -e)
# and renders it to SVG with scripts/ansi2svg.py. Nothing is drawn by hand.
#
#   scripts/screenshots.sh            # writes screenshots/*.svg
#   ONLY=diff scripts/screenshots.sh  # only the shots whose name starts with diff
set -euo pipefail
cd "$(dirname "$0")/.."

COLS=${COLS:-120}
ROWS=${ROWS:-34}
IMAGE=${IMAGE:-assets/sample.tar}
OUT=${OUT:-screenshots}
SOCK="layerscope-shots-$$"
ONLY=${ONLY:-}

cargo build --quiet
BIN=target/debug/layerscope
mkdir -p "$OUT"

t() { tmux -L "$SOCK" "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT

wait_for() {
  for _ in $(seq 1 100); do
    if t capture-pane -p -t shot | grep -qF -- "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$1'" >&2
  t capture-pane -p -t shot >&2
  return 1
}

# shot NAME WAIT_TEXT KEY... : fresh session, keys sent one by one
# (a lone "Escape" gets a pause so it is not read as Alt+key).
# ARGS (default: the image) and READY (default: the explorer's layer count)
# let the same function drive the diff mode.
shot() {
  local name=$1 wait=$2
  shift 2
  if [ -n "$ONLY" ] && [[ "$name" != "$ONLY"* ]]; then return 0; fi
  # A fresh tmux server per shot (reusing a dying one races).
  t kill-server 2>/dev/null || true
  SOCK="layerscope-shots-$$-$name"
  t -f /dev/null new-session -d -s shot -x "$COLS" -y "$ROWS" \
    "env -u CI TERM=xterm-256color XDG_CONFIG_HOME=/nonexistent $BIN ${ARGS:-$IMAGE}; sleep 60"
  wait_for "${READY:-Layer 5 of 0–5}"
  for k in "$@"; do
    t send-keys -t shot "$k"
    if [ "$k" = Escape ]; then sleep 0.3; else sleep 0.05; fi
  done
  wait_for "$wait"
  sleep 0.3
  t capture-pane -e -p -t shot | python3 scripts/ansi2svg.py "$COLS" "$ROWS" > "$OUT/$name.svg"
  t kill-server 2>/dev/null || true
  echo "$OUT/$name.svg"
}

shot layers-tree "aggregated to layer 5"
shot per-layer-deletions "changes in layer 2" k k k v Tab j j j j
shot image-details "Top wasted paths" i
shot search "/apt " / a p t Enter n
shot file-details "Timeline" : C-u /etc/ssl/certs/ca-certificates.crt Enter d
shot content "bytes 0" : C-u /var/lib/dpkg/status Enter o
shot range-compare "net change layer 1" k k k k m j j j
shot filter "filter: regex" f l i b Enter s
shot help "Help (q or esc closes" "?"

# Diff mode: the sample against its next build (examples/gen.rs sample-v2).
cargo build --quiet --example gen
V2DIR=$(mktemp -d)
trap 't kill-server 2>/dev/null || true; rm -rf "$V2DIR"' EXIT
target/debug/examples/gen sample-v2 "$V2DIR/sample-v2.tar"
export ARGS="diff $IMAGE $V2DIR/sample-v2.tar" READY="Files: old → new"
shot diff-tree "Files: old → new"
shot diff-content "lines ·" : C-u /etc/os-release Enter o
shot diff-details "Old and new" : C-u /bin/ls Enter d
