#!/usr/bin/env bash
# Build real multi-layer image archives with umoci, buildah, GNU tar and skopeo
# (no layerscope involved) and export each in every archive shape we can.
# Usage: ./make.sh [OUTDIR]   (default: ./out). Needs root (umoci unpack, buildah vfs).
# The ground truth of every step is in TRUTH (written next to the archives as truth.json).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath -m "${1:-$HERE/out}")
WORK=$OUT/.work
rm -rf "$OUT"; mkdir -p "$OUT" "$WORK"
export TZ=UTC
BAH="buildah --storage-driver vfs --root $WORK/storage --runroot $WORK/runroot"
CS="containers-storage:[vfs@$WORK/storage+$WORK/runroot]"
N="nice -n 10"

# Deterministic pseudo-random bytes: rnd N SEED
rnd() { (set +o pipefail; openssl enc -aes-128-ctr -nosalt -pass "pass:$2" -pbkdf2 </dev/zero 2>/dev/null | head -c "$1"); }

LONGDIR="srv/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..50})"
LONGNAME="$(printf 'n%.0s' {1..120}).txt"      # the name alone is >100 bytes
UNI="srv/ünïcødé/ファイル-ñ.txt"

########################################################################
# Image 1: umoci (unpack/repack/config) — "ustep"
########################################################################
U=$WORK/ustep; B=$WORK/ubundle
umoci init --layout "$U"
umoci new --image "$U:s0"
umoci unpack --image "$U:s0" "$B"
R=$B/rootfs
# --- L0 base
mkdir -p "$R/etc/app" "$R/data/old/a" "$R/data/old/b/nested" "$R/opt/replace/sub" "$R/srv" \
         "$R/$LONGDIR" "$(dirname "$R/$UNI")"
printf 'v1\n' >"$R/etc/app/config.conf"
printf 'obsolete\n' >"$R/etc/app/obsolete.conf"
rnd 200000 big1 >"$R/data/big.bin"
printf 'keep\n' >"$R/data/old/keep.txt"; printf '1\n' >"$R/data/old/a/1.txt"
printf '2\n' >"$R/data/old/b/2.txt"; printf '3\n' >"$R/data/old/b/nested/3.txt"
printf 'x\n' >"$R/opt/replace/x.txt"; printf 'y\n' >"$R/opt/replace/y.txt"; printf 'z\n' >"$R/opt/replace/sub/z.txt"
printf 'same content\n' >"$R/srv/same.txt"
printf '#!/bin/sh\necho hi\n' >"$R/srv/run.sh"; chmod 0644 "$R/srv/run.sh"
rnd 5000 hard >"$R/srv/hard.bin"; ln "$R/srv/hard.bin" "$R/srv/hard.link"
ln -s same.txt "$R/srv/sym"
printf 'long\n' >"$R/$LONGDIR/$LONGNAME"
printf 'utf8\n' >"$R/$UNI"
: >"$R/srv/emptyfile"
umoci repack --refresh-bundle --history.created_by "L0 base" --image "$U:s0" "$B"
# --- L1 modify
sleep 1.1
printf 'v2 longer\n' >"$R/etc/app/config.conf"
rm -rf "$R/data/old"
chmod 0755 "$R/srv/run.sh"
printf 'same content\n' >"$R/srv/same.txt"; touch -d '2030-01-01' "$R/srv/same.txt"
rnd 200000 big2 >"$R/data/big.bin"
ln "$R/srv/hard.bin" "$R/srv/hard.link2"
ln -sfn run.sh "$R/srv/sym"
printf 'new\n' >"$R/srv/new.txt"
umoci repack --refresh-bundle --history.created_by "L1 modify" --image "$U:s0" "$B"
# --- L2 replace a directory, delete files, change a type
sleep 1.1
rm -rf "$R/opt/replace"; mkdir -p "$R/opt/replace"
printf 'X2\n' >"$R/opt/replace/x.txt"; printf 'w\n' >"$R/opt/replace/w.txt"
rm "$R/etc/app/obsolete.conf"
rm "$R/srv/sym"; printf 'now a file\n' >"$R/srv/sym"
rm "$R/data/big.bin"
umoci repack --refresh-bundle --history.created_by "L2 replace dir" --image "$U:s0" "$B"
# --- L3 no filesystem change (empty tar layer)
umoci repack --refresh-bundle --history.created_by "L3 nothing" --image "$U:s0" "$B"
# --- config-only history entry (empty_layer)
umoci config --image "$U:s0" --config.env FOO=bar --history.created_by "ENV FOO=bar"
umoci unpack --image "$U:s0" "$B.2"; B=$B.2; R=$B/rootfs
# --- L4 re-add a deleted path
printf 'back\n' >"$R/data/big.bin"
umoci repack --refresh-bundle --history.created_by "L4 re-add" --image "$U:s0" "$B"
umoci config --image "$U:s0" --config.cmd /bin/sh --history.created_by 'CMD ["/bin/sh"]'
umoci gc --layout "$U"

########################################################################
# Image 2: GNU tar layers added verbatim (explicit opaque dir, dir whiteout,
# hardlinks, pax/gnu long and non-ASCII names) — "tcraft"
########################################################################
T=$WORK/tcraft; umoci init --layout "$T"; umoci new --image "$T:t"
L=$WORK/tl; mkdir -p "$L"
mk() { rm -rf "$L/$1"; mkdir -p "$L/$1"; }
tarit() { (cd "$L/$1" && tar --format="$2" --sort=name --owner=0 --group=0 --numeric-owner \
          --mtime='2024-01-01 00:00:00' -cf "$WORK/$1.tar" .); }
mk t0; D=$L/t0
mkdir -p "$D/cfg/deep/deeper" "$D/gone/a/b" "$D/bin"
printf 'A\n' >"$D/cfg/a.conf"; printf 'B\n' >"$D/cfg/b.conf"; printf 'deep\n' >"$D/cfg/deep/deeper/d.conf"
rnd 70000 gone >"$D/gone/a/b/blob"; printf 'g\n' >"$D/gone/top.txt"
rnd 30000 tool >"$D/bin/tool"; ln "$D/bin/tool" "$D/bin/tool-hl"
ln -s tool "$D/bin/tool-sym"
mkdir -p "$D/$LONGDIR"; printf 'L\n' >"$D/$LONGDIR/$LONGNAME"
mkdir -p "$(dirname "$D/$UNI")"; printf 'u\n' >"$D/$UNI"
tarit t0 pax
mk t1; D=$L/t1
mkdir -p "$D/cfg"; : >"$D/cfg/.wh..wh..opq"; printf 'C-new\n' >"$D/cfg/c.conf"; printf 'A2\n' >"$D/cfg/a.conf"
: >"$D/.wh.gone"
mkdir -p "$D/bin"; chmod 0755 "$D/bin"
rnd 30000 tool >"$D/bin/tool"; chmod 0700 "$D/bin/tool"            # same bytes, new mode
ln "$D/bin/tool" "$D/bin/tool-hl"                                   # hardlink to the new copy
tarit t1 gnu
mk t2; D=$L/t2
mkdir -p "$D/bin" "$(dirname "$D/$UNI")" "$D/$LONGDIR"
: >"$D/bin/.wh.tool-sym"
printf 'u2!\n' >"$D/$UNI"
: >"$D/$LONGDIR/.wh.$LONGNAME"
tarit t2 gnu
umoci raw add-layer --history.created_by "T0 base (pax)" --image "$T:t" "$WORK/t0.tar"
umoci raw add-layer --history.created_by "T1 opaque cfg, whiteout dir gone, chmod tool (gnu)" --image "$T:t" "$WORK/t1.tar"
umoci config --image "$T:t" --config.label a=b --history.created_by "LABEL a=b"
umoci raw add-layer --history.created_by "T2 whiteouts of symlink and long name (gnu)" --image "$T:t" "$WORK/t2.tar"
umoci gc --layout "$T"

########################################################################
# Image 2b: edge cases in hand-made layers (GNU tar sparse files, python tarfile for
# entries GNU tar will not write: duplicates, absolute names, whiteout+re-add) — "edge"
########################################################################
E=$WORK/edge; umoci init --layout "$E"; umoci new --image "$E:e"
mk e0; D=$L/e0
mkdir -p "$D/lib/real" "$D/typechg/dir2file/sub" "$D/opq"
truncate -s 1048576 "$D/sparse.img"; rnd 4096 sp | dd of="$D/sparse.img" bs=4096 seek=100 conv=notrunc status=none
printf 'dup v1\n' >"$D/dup.txt"; printf 'so\n' >"$D/lib/real/so.1"; ln -s real "$D/lib/link"
printf 'child\n' >"$D/typechg/dir2file/sub/c"; printf 'was a file\n' >"$D/typechg/file2dir"
printf 'o1\n' >"$D/opq/one"; printf 'o2\n' >"$D/opq/two"
(cd "$D" && tar --format=gnu --sparse --sort=name --owner=0 --group=0 --numeric-owner \
   --mtime='2024-01-01 00:00:00' -cf "$WORK/e0.tar" .)
python3 - "$WORK/e1.tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, data=b"", kind=tarfile.REGTYPE, mode=0o644, link=""):
    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; i.mtime = 1700000000; i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
add(".wh.dup.txt"); add("dup.txt", b"dup v2 (re-added after its own whiteout)\n")  # whiteout + re-add, same layer
add("twice.txt", b"first\n"); add("twice.txt", b"second!!\n")                   # same path twice: last wins
add("typechg/dir2file", b"now a file\n")                                         # dir -> file, no whiteout
add("typechg/file2dir", kind=tarfile.DIRTYPE, mode=0o755)                        # file -> dir
add("typechg/file2dir/inner", b"inner\n")
add("/abs/x.txt", b"absolute name\n")                                            # leading slash
add("./dot/y.txt", b"dot-slash name\n")
add("opq", kind=tarfile.DIRTYPE, mode=0o755); add("opq/.wh..wh..opq"); add("opq/.wh.two")  # opaque + whiteout
add("opq/three", b"o3\n")
add("lib/link/via-symlink.txt", b"written through a symlinked dir\n")            # parent is a symlink
t.close()
PY
(cd "$L" && rm -rf e3 && mkdir e3 && truncate -s 65536 e3/pax-sparse.img && printf 'tail' >>e3/pax-sparse.img &&
 tar -C e3 --format=pax --sparse --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00:00' -cf "$WORK/e3.tar" .)
tar -cf "$WORK/e-empty.tar" -T /dev/null                                           # only end-of-archive blocks
umoci raw add-layer --history.created_by "E0 gnu sparse 1MiB file, symlinked dir" --image "$E:e" "$WORK/e0.tar"
umoci raw add-layer --history.created_by "E1 python tarfile oddities" --image "$E:e" "$WORK/e1.tar"
umoci raw add-layer --history.created_by "E2 the same layer blob again" --image "$E:e" "$WORK/e1.tar"
umoci raw add-layer --history.created_by "E3 pax sparse file" --image "$E:e" "$WORK/e3.tar"
umoci raw add-layer --history.created_by "E4 empty tar" --image "$E:e" "$WORK/e-empty.tar"
umoci gc --layout "$E"

########################################################################
# Image 2c: minimal reproducers — "wx": a whiteout naming a path absent below
# (dive 0.13.1 stops counting that layer), "sparse": GNU and PAX sparse files
########################################################################
python3 - "$WORK" <<'PY'
import io, sys, tarfile
def mk(fn, items):
    t = tarfile.open(fn, "w", format=tarfile.PAX_FORMAT)
    for name, data in items:
        i = tarfile.TarInfo(name); i.mtime = 1700000000
        if data is None: i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
        else: i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
    t.close()
w = sys.argv[1]
mk(w + "/w0.tar", [("a.txt", b"1"), ("m", None), ("m/x", b"22"), ("z.txt", b"333")])
mk(w + "/w1.tar", [(".wh.nonexist", b""), ("a.txt", b"1111111111"), ("z.txt", b"3" * 30)])
mk(w + "/w2.tar", [("m", None), ("m/.wh..wh..opq", b""), ("m/y", b"yy"), ("z.txt", b"3" * 31)])
PY
X=$WORK/wx; umoci init --layout "$X"; umoci new --image "$X:w"
for i in 0 1 2; do umoci raw add-layer --history.created_by "W$i" --image "$X:w" "$WORK/w$i.tar"; done
mkdir -p "$WORK/sp/p" "$WORK/sp/g"
truncate -s 65536 "$WORK/sp/p/pax-sparse.img"; printf tail >>"$WORK/sp/p/pax-sparse.img"
truncate -s 65536 "$WORK/sp/g/gnu-sparse.img"; printf tail >>"$WORK/sp/g/gnu-sparse.img"
tar -C "$WORK/sp/p" --format=pax --sparse --owner=0 --group=0 --numeric-owner -cf "$WORK/sp-pax.tar" pax-sparse.img
tar -C "$WORK/sp/g" --format=gnu --sparse --owner=0 --group=0 --numeric-owner -cf "$WORK/sp-gnu.tar" gnu-sparse.img
SP=$WORK/sparse; umoci init --layout "$SP"; umoci new --image "$SP:s"
umoci raw add-layer --history.created_by "PAX sparse 1.0 file, 65540 bytes" --image "$SP:s" "$WORK/sp-pax.tar"
umoci raw add-layer --history.created_by "GNU sparse (type S) file, 65540 bytes" --image "$SP:s" "$WORK/sp-gnu.tar"

########################################################################
# Image 3: buildah from scratch (copy, mount+edit, config, commit) — "bsteps"
########################################################################
S=$WORK/bsrc; mkdir -p "$S/tree/etc" "$S/tree/lib/deep/er" "$S/tree/var/cache"
printf 'one\n' >"$S/tree/etc/conf"; printf 'deep\n' >"$S/tree/lib/deep/er/x.so"
rnd 120000 cache >"$S/tree/var/cache/c.bin"; printf 'keep\n' >"$S/tree/etc/keep"
bstep() { # bstep FORMAT
  local f=$1 c m
  c=$($BAH from scratch)
  $BAH copy "$c" "$S/tree" /
  $BAH config --created-by "B0 copy tree" "$c"
  $BAH commit -q --format "$f" "$c" "b$f:0" >/dev/null; $BAH rm "$c" >/dev/null
  c=$($BAH from "b$f:0"); m=$($BAH mount "$c")
  printf 'two!\n' >"$m/etc/conf"; rm -rf "$m/lib/deep"; chmod 0600 "$m/etc/keep"
  ln "$m/var/cache/c.bin" "$m/var/cache/c.hl"; ln -s ../etc/conf "$m/var/conf-link"
  $BAH umount "$c" >/dev/null
  $BAH config --created-by "B1 edit" "$c"
  $BAH commit -q --format "$f" "$c" "b$f:1" >/dev/null; $BAH rm "$c" >/dev/null
  c=$($BAH from "b$f:1")
  $BAH config --env FOO=bar --created-by "B2 ENV only" "$c"
  $BAH commit -q --format "$f" "$c" "b$f:2" >/dev/null; $BAH rm "$c" >/dev/null
  c=$($BAH from "b$f:2"); m=$($BAH mount "$c")
  rm -rf "$m/var/cache"; mkdir -p "$m/var/cache"; printf 'fresh\n' >"$m/var/cache/new"
  rm "$m/etc/conf"
  $BAH umount "$c" >/dev/null
  $BAH config --created-by "B3 replace dir" "$c"
  local fmt=$f; [ "$f" = docker ] && fmt=docker
  $BAH commit -q --format "$f" "$c" "b$f:3" >/dev/null
  $BAH commit -q --format "$f" "$c" "docker-archive:$OUT/bsteps-$f.buildah-docker.tar:b$f:3" >/dev/null
  $BAH commit -q --format "$f" "$c" "oci-archive:$OUT/bsteps-$f.buildah-oci.tar:b$f:3" >/dev/null
  $BAH rm "$c" >/dev/null
}
bstep docker
bstep oci

########################################################################
# Exports
########################################################################
SK="$N skopeo --insecure-policy copy -q"
export_all() { # export_all SRC NAME TAG
  local src=$1 n=$2 t=$3
  $SK "$src" "docker-archive:$OUT/$n.docker.tar:localhost/$n:$t"
  $SK "$src" "oci-archive:$OUT/$n.oci.tar:$t"
  $SK --dest-compress-format zstd --dest-compress "$src" "oci-archive:$OUT/$n.oci-zstd.tar:$t" ||
    echo "zstd oci-archive failed for $n" >&2
  # skopeo 1.9 cannot decompress into OCI; docker-archive -> OCI with uncompressed layers
  # allowed writes raw tar blobs whose media type still says tar+gzip (kept: a real-world oddity)
  $SK --dest-oci-accept-uncompressed-layers "docker-archive:$OUT/$n.docker.tar" \
    "oci-archive:$OUT/$n.oci-mislabelled.tar:$t" || echo "mislabelled oci-archive failed for $n" >&2
  $SK "$src" "oci:$OUT/$n.layout:$t"
  gzip -n -c "$OUT/$n.docker.tar" >"$OUT/$n.docker.tar.gz"
  # Docker (v2s2) manifest inside an OCI archive
  $SK -f v2s2 "$src" "oci-archive:$OUT/$n.oci-v2s2.tar:$t" || echo "v2s2 oci-archive failed for $n" >&2
  # containers/image `dir:` layout (manifest.json is one manifest, blobs named by hex digest)
  $SK "$src" "dir:$OUT/$n.skopeo-dir" || echo "dir: export failed for $n" >&2
}
export_all "oci:$U:s0" ustep s0
export_all "oci:$T:t" tcraft t
export_all "oci:$E:e" edge e
export_all "oci:$X:w" wx w
export_all "oci:$SP:s" sparse s
export_all "${CS}localhost/bdocker:3" bsteps-docker 3
export_all "${CS}localhost/boci:3" bsteps-oci 3

# Multi-image archives: an OCI layout with two tags (umoci), the same as an
# oci-archive (tar of the layout), and a docker archive with two images (podman, if present).
cp -r "$U" "$WORK/multi"; umoci tag --image "$WORK/multi:s0" other
umoci raw add-layer --no-history --image "$WORK/multi:other" "$WORK/t0.tar"
cp -r "$WORK/multi" "$OUT/multi.layout"
(cd "$WORK/multi" && tar --sort=name -cf "$OUT/multi.oci.tar" .)
if command -v podman >/dev/null; then
  P="podman --storage-driver vfs --root $WORK/storage --runroot $WORK/runroot"
  $P save --multi-image-archive -o "$OUT/multi.docker.tar" localhost/bdocker:3 localhost/boci:1 ||
    echo "podman multi-image save failed" >&2
fi
rm -rf "$WORK/storage" 2>/dev/null || true
ls -la "$OUT"
