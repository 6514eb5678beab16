#!/usr/bin/env bash
# Time an image analysed straight from a daemon against the daemon's own
# export, side by side in one run:
#   curl --unix-socket SOCK http://localhost/images/NAME/get > /dev/null
#   layerscope report NAME --format json > /dev/null      (DOCKER_HOST=SOCK)
# for the Docker daemon and podman's socket, each started privately by
# scripts/services.sh. curl's time to the first byte is the export the
# daemon does before it sends anything.
#
#   bench/daemon.sh [IMAGE.tar] [RUNS]
# Without IMAGE.tar, a ~300 MB docker-save archive is generated with
# `cargo run --release --example gen`. Needs: a release build, dockerd
# and/or podman, curl, GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ls_bin=${LAYERSCOPE:-$here/target/release/layerscope}
[ -x "$ls_bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
runs=${2:-3}
tmp=$(mktemp -d /tmp/ls-bench-XXXX)
# overlay2 keeps one copy of each layer (vfs, the tests' default, copies the
# whole tree per layer); STORAGE_DRIVER=vfs where overlay mounts are refused.
export STORAGE_DRIVER=${STORAGE_DRIVER:-overlay2}
cleanup() {
	for k in docker podman; do "$here/scripts/services.sh" stop "$k" "$tmp/$k" || true; done
	rm -rf "$tmp"
}
# KINDS="docker" to leave podman out (each engine keeps its own copy of the image).
kinds=${KINDS:-docker podman}
trap cleanup EXIT
img=${1:-}
if [ -z "$img" ]; then
	img=$tmp/bench.tar
	(cd "$here" && cargo run -q --release --example gen -- synth --layers 8 --entries 40000 \
		--size 300M --format docker --out "$img")
fi
name=layerscope-bench/app:latest
# The generated archive's tag, if it has one.
tag=$(python3 -c 'import json,sys,tarfile; t=tarfile.open(sys.argv[1]); m=json.load(t.extractfile("manifest.json")); print((m[0].get("RepoTags") or [""])[0])' "$img")
[ -n "$tag" ] && name=$tag
size=$(stat -c %s "$img")
printf 'image %s, %s bytes (%s), best of %s runs\n\n' "$name" "$size" "$(basename "$img")" "$runs"
printf '%-8s %-34s %8s %8s %8s\n' daemon what "wall s" "CPU s" "first B"

best() { sort -n | head -1; }

for kind in $kinds; do
	case $kind in
	docker) command -v dockerd >/dev/null || continue ;;
	podman) command -v podman >/dev/null || continue ;;
	esac
	sock=$("$here/scripts/services.sh" start "$kind" "$tmp/$kind")
	if [ "$kind" = docker ]; then
		curl -sf --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
			--data-binary "@$img" http://localhost/images/load >/dev/null
		env=(DOCKER_HOST="unix://$sock")
		ref=$name
	else
		podman --root "$tmp/$kind/podman-root" --runroot "$tmp/$kind/podman-run" \
			--storage-driver "${STORAGE_DRIVER%2}" load -q -i "$img" >/dev/null
		env=(CONTAINER_HOST="unix://$sock")
		ref=podman://$name
	fi
	enc=$name
	: >"$tmp/curl" ; : >"$tmp/first"; : >"$tmp/ls"; : >"$tmp/lscpu"
	for _ in $(seq "$runs"); do
		curl -sf --unix-socket "$sock" -o /dev/null -w '%{time_starttransfer} %{time_total}\n' \
			"http://localhost/images/$enc/get" >"$tmp/one"
		awk '{print $2}' "$tmp/one" >>"$tmp/curl"
		awk '{print $1}' "$tmp/one" >>"$tmp/first"
		env "${env[@]}" /usr/bin/time -f '%e %U %S' -o "$tmp/t" \
			"$ls_bin" report "$ref" --format json >/dev/null
		awk '{print $1}' "$tmp/t" >>"$tmp/ls"
		awk '{print $2+$3}' "$tmp/t" >>"$tmp/lscpu"
	done
	c=$(best <"$tmp/curl"); f=$(best <"$tmp/first"); l=$(best <"$tmp/ls"); lc=$(best <"$tmp/lscpu")
	printf '%-8s %-34s %8.2f %8s %8.2f\n' "$kind" "curl …/images/NAME/get > /dev/null" "$c" "-" "$f"
	printf '%-8s %-34s %8.2f %8.2f %8s\n' "$kind" "layerscope report --format json" "$l" "$lc" "-"
	printf '%-8s ratio %.2fx (export before the first byte: %.0f%% of curl)\n\n' "$kind" \
		"$(echo "$l / $c" | bc -l)" "$(echo "100 * $f / $c" | bc -l)"
	"$here/scripts/services.sh" stop "$kind" "$tmp/$kind"
done
