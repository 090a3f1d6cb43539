#!/usr/bin/env bash
# fsck.sh: time `afrkit fsck` over one brick of a volume with BENCH_FILES
# files (default 1,000,000; bench/healinfo builds it, or reuses the one
# bench/healinfo.sh built), against a bare `find` walk of the same brick in
# the same run, both with a cold page cache, with peak RSS. Needs root
# (trusted xattrs, drop_caches).
#
# The brick is one of the volume's up bricks: every file carries a gfid, a
# handle, gfid2path, mdata, pending counters and an index entry, as a
# GlusterFS brick that missed a heal does, so fsck checks the whole
# .glusterfs tree and index as well as the namespace. fsck must find no
# problem there (exit 0); the script fails otherwise.
#
# The filesystem decides much of the ratio. find reads directories only;
# fsck must also read every file's inode and xattrs. On ext4 with 256-byte
# inodes a GlusterFS file's xattrs (gfid, gfid2path, mdata, changelogs) do
# not fit in the inode and take a 4 KiB block of their own, one random read
# per file; on XFS with 512-byte inodes, GlusterFS's recommended brick
# format, they fit in the inode. Run it on both:
#   bash bench/fsck.sh
#   BENCH_XFS=1 BENCH_DIR=/var/tmp/afrkit-bench-xfs bash bench/healinfo.sh  # once: the XFS volumes
#   BENCH_DIR=/var/tmp/afrkit-bench-xfs bash bench/fsck.sh
#
# Memory must not grow with the number of files: with BENCH_SCALE (default
# "10000 100000") it also runs fsck on smaller volumes and prints their
# peak RSS beside the big one's.
#
# Environment:
#   BENCH_DIR     where volumes and binaries live (default /var/tmp/afrkit-bench,
#                 bench/healinfo.sh's; BENCH_XFS=1 there puts it on XFS)
#   BENCH_FILES   files in the big volume (default 1000000)
#   BENCH_SCALE   smaller volumes for the memory comparison ("" to skip)
#   BENCH_REPEAT  runs per measurement, the median is shown (default 3)
#   BENCH_REV     build afrkit from this git revision instead of the work tree
#   BENCH_JOBS    passed as fsck --jobs (default: fsck's own, 4 per CPU)
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-bench}
BENCH_FILES=${BENCH_FILES:-1000000}
BENCH_SCALE=${BENCH_SCALE-10000 100000}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BIN=$BENCH_DIR/bin
mkdir -p "$BIN"

log() { echo "fsck.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (trusted xattrs, drop_caches)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

if [ -n "${BENCH_REV:-}" ]; then
  src=$(mktemp -d)
  git archive "$BENCH_REV" | tar -x -C "$src"
  (cd "$src" && go build -o "$BIN/afrkit-fsck" ./cmd/afrkit)
  rm -rf "$src"
  REV=$(git rev-parse --short "$BENCH_REV")
else
  go build -o "$BIN/afrkit-fsck" ./cmd/afrkit
  REV="work tree on $(git rev-parse --short HEAD)"
fi
go build -o "$BIN/healinfo" ./bench/healinfo

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# timed CMD...: runs CMD with stdout to /dev/null under /usr/bin/time and
# sets T_SEC, T_KIB and T_RC (fsck's exit status is data, not failure).
timed() {
  local tf
  tf=$(mktemp)
  set +e
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$BIN/last.out"
  T_RC=$?
  set -e
  read -r T_SEC T_KIB < <(tail -1 "$tf")
  rm -f "$tf"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# bench N: build or reuse a replica-2 volume of N files, and time find and
# fsck over its first brick.
bench() {
  local n=$1 line vol brick fs=() ks=() ss=() i entries
  line=$("$BIN/healinfo" -dir "$BENCH_DIR" -n "$n" -replica 2)
  vol=$(sed -n 's/.*volume=\([^ ]*\).*/\1/p' <<<"$line")
  brick=$(ls -d "$BENCH_DIR/$vol"/b* | head -1)
  log "$vol: brick $brick"
  for i in $(seq "$BENCH_REPEAT"); do
    drop_caches
    timed find "$brick"
    fs+=("$T_SEC")
    drop_caches
    timed "$BIN/afrkit-fsck" --state-dir "$BENCH_DIR/state" fsck --brick "$brick" --volume "$vol" --json ${BENCH_JOBS:+--jobs "$BENCH_JOBS"}
    [ "$T_RC" = 0 ] || { head -c 4000 "$BIN/last.out" >&2; die "fsck found problems on a generated brick (exit $T_RC)"; }
    ks+=("$T_SEC")
    ss+=("$T_KIB")
  done
  entries=$(grep -oP '"entries": \K\d+' "$BIN/last.out")
  handles=$(grep -oP '"handles": \K\d+' "$BIN/last.out")
  local f k s
  f=$(printf '%s\n' "${fs[@]}" | median)
  k=$(printf '%s\n' "${ks[@]}" | median)
  s=$(printf '%s\n' "${ss[@]}" | median)
  printf '%-12s %9s %9s %8s %9s %9s %7s %9s\n' "$vol" "$entries" "$handles" "$f" "$k" \
    "$(awk -v k="$k" -v f="$f" 'BEGIN {printf "%.2fx", k/f}')" \
    "$(awk -v e="$entries" -v k="$k" 'BEGIN {printf "%d", e/k}')" "$((s / 1024)) MiB"
}

echo "afrkit fsck --brick against find, cold cache, median of $BENCH_REPEAT; afrkit: $REV; $(nproc) CPUs"
printf '%-12s %9s %9s %8s %9s %9s %7s %9s\n' volume entries handles "find s" "fsck s" ratio "entr/s" "peak RSS"
for n in $BENCH_SCALE "$BENCH_FILES"; do
  bench "$n"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
