#!/usr/bin/env bash
# Compare two builds of the keypress benchmark (benches/tui.rs) by the
# instructions each key costs, counted by callgrind: on a shared 2-core
# machine the sub-millisecond timings of one binary swing 1.5x from run
# to run, while instruction counts repeat to the digit. Each row's work is
# the callgrind dump taken before its `report` call, divided by its keys.
# Cache misses are not counted (a change that packs data shows in the
# timings, not here), so read both.
#
#   bench/keypress-instructions.sh BENCH_A BENCH_B
# BENCH_x: a bench binary, as `cargo bench --bench tui --no-run` prints
# it (build the older one in a `git worktree` of the revision). Needs
# valgrind; takes ~10 minutes (both run at once, one core each).
set -euo pipefail
[ $# -eq 2 ] || { sed -n 2,13p "$0" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 2; }
tmp=$(mktemp -d /tmp/ls-keys-XXXX)
trap 'rm -rf "$tmp"' EXIT
for side in a b; do
	bin=$1; shift
	mkdir "$tmp/$side"
	(cd "$tmp/$side" && valgrind --tool=callgrind --dump-before='tui::report' \
		--callgrind-out-file=cg.%p "$bin" >out.txt 2>vg.txt) &
done
wait
python3 - "$tmp" <<'PY'
import glob, re, sys

def rows(d):
    labels = []
    for line in open(f"{d}/out.txt"):
        m = re.match(r"(.{40}) n=(\d+)", line)
        if m:
            labels.append((m.group(1).strip(), int(m.group(2))))
    dumps = sorted(glob.glob(f"{d}/cg.*.*"), key=lambda f: int(f.rsplit(".", 1)[1]))
    irs = []
    for f in dumps:
        for line in open(f):
            if line.startswith(("totals:", "summary:")):
                irs.append(int(line.split()[1]))
                break
    # Dump k holds the work since dump k-1: row k's keys (row 1 also
    # holds the setup, so it is left out).
    return {lab: ir / n for (lab, n), ir in list(zip(labels, irs))[1:]}

a, b = rows(f"{sys.argv[1]}/a"), rows(f"{sys.argv[1]}/b")
print(f"{'row':<42}{'A k instr/key':>14}{'B k instr/key':>14}{'B/A':>6}")
for lab in a:
    if lab in b:
        print(f"{lab:<42}{a[lab] / 1e3:14.0f}{b[lab] / 1e3:14.0f}{b[lab] / a[lab]:6.2f}")
PY
