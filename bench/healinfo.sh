#!/usr/bin/env bash
# healinfo.sh: time `afrkit heal VOL info` and `info summary` on big pending
# heals, and against GlusterFS's own `gluster volume heal VOL info`.
#
#   bench/healinfo.sh                 replica 2 at 10k, 100k and 1M files, replica 3 at 100k,
#                                     then the GlusterFS comparison (as root with glusterd)
#   BENCH_SIZES="10000 100000" bench/healinfo.sh     other replica-2 sizes
#
# Environment:
#   BENCH_DIR        where volumes, binaries and outputs live (default /var/tmp/afrkit-bench);
#                    volumes are reused across runs (bench/healinfo writes a marker)
#   BENCH_SIZES      replica-2 file counts (default "10000 100000 1000000")
#   BENCH_R3         replica-3 file count, 0 to skip (default 100000)
#   BENCH_COLD       1 to also time each run with a cold page cache (default 1 when
#                    /proc/sys/vm/drop_caches is writable)
#   BENCH_WARM_RUNS  warm runs per measurement; the fastest is shown, since on a shared
#                    2-core machine noise only ever adds time (default 2)
#   BENCH_XFS        1 to put BENCH_DIR on XFS with 512-byte inodes (GlusterFS's recommended
#                    brick filesystem, where a brick file's xattrs fit in its inode), made on a
#                    loop device over the sparse file BENCH_DIR.img (BENCH_XFS_SIZE, default 40G)
#                    and left mounted for reuse. Default 0: BENCH_DIR stays on its filesystem
#                    (ext4 with 256-byte inodes here, where each file's xattrs take a 4 KiB block)
#   BENCH_GLUSTER    0 to skip the GlusterFS comparison (default 1)
#   BENCH_GLUSTER_FILES  files created through the FUSE mount (default 10000)
#   BENCH_GLUSTER_DIRS   directories they are spread over (default 10)
#   BENCH_REPEAT     runs per GlusterFS comparison measurement; the median is shown (default 3)
#   BENCH_REV        build afrkit from this git revision (e.g. HEAD, or a commit to compare
#                    before/after an optimization) instead of the work tree
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-bench}
BENCH_SIZES=${BENCH_SIZES:-"10000 100000 1000000"}
BENCH_R3=${BENCH_R3:-100000}
BENCH_GLUSTER=${BENCH_GLUSTER:-1}
BENCH_GLUSTER_FILES=${BENCH_GLUSTER_FILES:-10000}
BENCH_GLUSTER_DIRS=${BENCH_GLUSTER_DIRS:-10}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_WARM_RUNS=${BENCH_WARM_RUNS:-2}
if [ -z "${BENCH_COLD:-}" ]; then
  BENCH_COLD=0
  [ -w /proc/sys/vm/drop_caches ] && BENCH_COLD=1
fi
export BENCH_DIR

log() { echo "healinfo.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [ "${BENCH_XFS:-0}" = 1 ] && ! mountpoint -q "$BENCH_DIR"; then
  [ "$(id -u)" -eq 0 ] || die "BENCH_XFS=1 needs root"
  img=${BENCH_DIR%/}.img
  if [ ! -e "$img" ]; then
    log "making a ${BENCH_XFS_SIZE:-40G} XFS image $img"
    truncate -s "${BENCH_XFS_SIZE:-40G}" "$img"
    mkfs.xfs -q -i size=512 "$img"
  fi
  mkdir -p "$BENCH_DIR"
  # Direct I/O, so the loop device does not cache the image a second time
  # in the host filesystem's page cache and "cold" means cold.
  dev=$(losetup --direct-io=on -f --show "$img")
  mount "$dev" "$BENCH_DIR"
  log "mounted $img ($dev) on $BENCH_DIR"
fi

STATE=$BENCH_DIR/state
BIN=$BENCH_DIR/bin
OUT=$BENCH_DIR/out
mkdir -p "$BIN" "$OUT"

# /usr/bin/time, not the shell keyword: it reports peak RSS.
if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" -eq 0 ] || die "/usr/bin/time is missing (apt-get install time)"
  log "installing time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
fi

log "building afrkit${BENCH_REV:+ at $BENCH_REV} and the volume generator into $BIN"
if [ -n "${BENCH_REV:-}" ]; then
  # A clean export, so uncommitted work in the tree does not leak in.
  src=$(mktemp -d)
  git archive "$BENCH_REV" | tar -x -C "$src"
  (cd "$src" && go build -o "$BIN/afrkit" ./cmd/afrkit)
  rm -rf "$src"
else
  go build -o "$BIN/afrkit" ./cmd/afrkit
fi
# What was measured, for the table: a revision, or the work tree on top of one.
if [ -n "${BENCH_REV:-}" ]; then
  REV=$(git rev-parse --short "$BENCH_REV")
else
  REV="work tree on $(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- . ':!bench' || REV="$REV (with uncommitted changes)"
fi
go build -o "$BIN/healinfo" ./bench/healinfo
AFRKIT=$BIN/afrkit

# Table rows, printed at the end (and as they come, to stderr).
ROWS=()
row() { ROWS+=("$(printf '%-10s %9s %15s %-8s %-5s %9s %11s' "$@")"); }
HDR=$(printf '%-10s %9s %15s %-8s %-5s %9s %11s' volume files entries mode cache seconds "peak RSS")

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# timed OUTFILE CMD...: runs CMD with stdout to OUTFILE under /usr/bin/time;
# sets T_SEC and T_KIB. A failing command aborts the benchmark: a time for a
# run that errored out means nothing.
timed() {
  local out=$1 tf; shift
  tf=$(mktemp)
  if ! /usr/bin/time -f '%e s %M KiB' -o "$tf" "$@" >"$out"; then
    cat "$tf" >&2; rm -f "$tf"; die "failed: $*"
  fi
  read -r T_SEC _ T_KIB _ <"$tf"
  rm -f "$tf"
}

# summary_counts FILE: the per-brick "Total Number of entries" of a summary,
# comma-separated in brick order.
summary_counts() { grep -oP '(?<=^Total Number of entries: )\S+' "$1" | paste -sd, -; }
# info_counts FILE: the per-brick "Number of entries" of a plain info.
info_counts() { grep -oP '(?<=^Number of entries: )\S+' "$1" | paste -sd, -; }

# bench_volume GENERATOR-FLAGS...: build (or reuse) a volume, then time
# summary and info on it.
bench_volume() {
  local line vol expected files total
  log "generating: $*"
  line=$("$BIN/healinfo" -dir "$BENCH_DIR" "$@")
  log "$line"
  vol=$(sed -n 's/.*volume=\([^ ]*\).*/\1/p' <<<"$line")
  expected=$(sed -n 's/.*expected=\([^ ]*\).*/\1/p' <<<"$line")
  files=$(sed -n 's/.* files=\([^ ]*\).*/\1/p' <<<"$line")
  total=$(tr , '\n' <<<"$expected" | paste -sd+ - | bc)
  GEN_LINES+=("$line")
  local caches=(warm)
  [ "$BENCH_COLD" = 1 ] && caches=(cold warm)
  local mode cache got runs r best_sec best_kib
  for mode in summary info; do
    for cache in "${caches[@]}"; do
      runs=1
      [ "$cache" = warm ] && runs=$BENCH_WARM_RUNS
      best_sec=
      for r in $(seq "$runs"); do
        [ "$cache" = cold ] && drop_caches
        if [ "$mode" = summary ]; then
          timed "$OUT/$vol.summary" "$AFRKIT" --state-dir "$STATE" heal "$vol" info summary
          got=$(summary_counts "$OUT/$vol.summary")
          [ "$got" = "$expected" ] || die "$vol: summary counts $got, generated $expected"
        else
          timed /dev/null "$AFRKIT" --state-dir "$STATE" heal "$vol" info
        fi
        log "$vol $mode $cache run $r: $T_SEC s, $T_KIB KiB"
        if [ -z "$best_sec" ] || awk -v a="$T_SEC" -v b="$best_sec" 'BEGIN { exit !(a < b) }'; then
          best_sec=$T_SEC best_kib=$T_KIB
        fi
      done
      row "$vol" "$files" "$total" "$mode" "$cache" "$best_sec" "$best_kib KiB"
    done
  done
}

GEN_LINES=()
for n in $BENCH_SIZES; do
  bench_volume -n "$n" -replica 2
done
if [ "$BENCH_R3" != 0 ]; then
  bench_volume -n "$BENCH_R3" -replica 3
fi

echo
echo "== afrkit ($REV) heal info on generated volumes in $BENCH_DIR ($(stat -f -c %T "$BENCH_DIR")); counts verified against the generator; warm = best of $BENCH_WARM_RUNS =="
echo "$HDR"
printf '%s\n' "${ROWS[@]}"
echo
echo "== generation =="
printf '%s\n' "${GEN_LINES[@]}"
echo
echo "== disk use =="
df -hT "$BENCH_DIR" | tail -1
df -i "$BENCH_DIR" | tail -1
for d in "$BENCH_DIR"/*/bench-marker.json; do
  [ -e "$d" ] || continue
  printf '%s: ' "$(basename "$(dirname "$d")")"
  du -sh --apparent-size "$(dirname "$d")" | cut -f1 | tr '\n' ' '
  printf '(apparent), '
  du -sh "$(dirname "$d")" | cut -f1
done

# ---------------------------------------------------------------------------
# GlusterFS comparison: the same question asked of a real replica-3 volume.
# ---------------------------------------------------------------------------
if [ "$BENCH_GLUSTER" = 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v glusterd >/dev/null || ! command -v gluster >/dev/null; then
  log "skipping the GlusterFS comparison: needs root and glusterfs-server"
  exit 0
fi
pgrep -x glusterd >/dev/null || { glusterd -p /run/glusterd.pid; sleep 2; }

GVOL=afrbench
GROOT=$BENCH_DIR/gluster
GMNT=$GROOT/mnt
HOST=$(hostname)
GLUSTERD_DIR=/var/lib/glusterd

g() { gluster --mode=script "$@"; }
gluster_cleanup() {
  umount -l "$GMNT" 2>/dev/null || true
  g volume stop "$GVOL" force >/dev/null 2>&1 || true
  g volume delete "$GVOL" >/dev/null 2>&1 || true
  rm -rf "${GROOT:?}"
}
trap gluster_cleanup EXIT
gluster_cleanup

log "GlusterFS: creating replica-3 volume $GVOL"
bricks=()
for i in 1 2 3; do mkdir -p "$GROOT/b$i"; bricks+=("$HOST:$GROOT/b$i"); done
g volume create "$GVOL" replica 3 "${bricks[@]}" force >/dev/null
# As glab.sh: nothing may heal behind the benchmark's back, and writes must
# succeed with a brick down.
for o in cluster.quorum-type=none cluster.self-heal-daemon=off cluster.data-self-heal=off \
         cluster.metadata-self-heal=off cluster.entry-self-heal=off performance.stat-prefetch=off \
         performance.quick-read=off performance.io-cache=off performance.read-ahead=off; do
  g volume set "$GVOL" "${o%%=*}" "${o#*=}" >/dev/null
done
g volume start "$GVOL" >/dev/null
mkdir -p "$GMNT"
mount -t glusterfs "$HOST:/$GVOL" "$GMNT"

# The directories exist on every brick before the brick goes down, as on
# the generated volumes.
for d in $(seq -f 'd%02g' 0 $((BENCH_GLUSTER_DIRS - 1))); do mkdir "$GMNT/$d"; done

brickpid() { gluster volume status "$GVOL" "$HOST:$GROOT/b$1" --xml | grep -oP '(?<=<pid>)-?\d+' | head -1; }
pid=$(brickpid 3)
[ -n "$pid" ] && [ "$pid" -gt 0 ] || die "no pid for brick 3"
log "GlusterFS: killing brick 3 (pid $pid)"
kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

log "GlusterFS: creating $BENCH_GLUSTER_FILES files through the FUSE mount"
per=$((BENCH_GLUSTER_FILES / BENCH_GLUSTER_DIRS))
start=$(date +%s.%N)
for d in $(seq -f 'd%02g' 0 $((BENCH_GLUSTER_DIRS - 1))); do
  # One touch per directory: a process per file would time fork, not FUSE.
  (cd "$GMNT/$d" && seq -f 'f%05g' 1 "$per" | xargs touch)
done
end=$(date +%s.%N)
GFILES=$((per * BENCH_GLUSTER_DIRS))
log "GlusterFS: $GFILES files in $(echo "$end - $start" | bc) s"

log "GlusterFS: restarting brick 3 (volume start force; shd stays off)"
g volume start "$GVOL" force >/dev/null
for _ in $(seq 100); do
  p=$(brickpid 3); [ -n "$p" ] && [ "$p" -gt 0 ] && break; sleep 0.2
done
sleep 2 # let the client and glusterd see the brick online

# median of the T_SEC values in "$@"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A GSEC GKIB
measure() { # measure KEY OUTFILE CMD...
  local key=$1 out=$2 s=() k=() r; shift 2
  for r in $(seq "$BENCH_REPEAT"); do
    timed "$out" "$@"; s+=("$T_SEC"); k+=("$T_KIB")
  done
  GSEC[$key]=$(median "${s[@]}"); GKIB[$key]=$(median "${k[@]}")
  log "$key: ${s[*]} s (median ${GSEC[$key]}), peak RSS ${GKIB[$key]} KiB"
}

measure gluster-info "$OUT/gluster.info" gluster volume heal "$GVOL" info
measure gluster-summary "$OUT/gluster.summary" gluster volume heal "$GVOL" info summary
measure afrkit-info "$OUT/afrkit-gluster.info" "$AFRKIT" --state-dir "$STATE" --glusterd-dir "$GLUSTERD_DIR" heal "$GVOL" info
measure afrkit-summary "$OUT/afrkit-gluster.summary" "$AFRKIT" --state-dir "$STATE" --glusterd-dir "$GLUSTERD_DIR" heal "$GVOL" info summary

gi=$(info_counts "$OUT/gluster.info"); ai=$(info_counts "$OUT/afrkit-gluster.info")
gs=$(summary_counts "$OUT/gluster.summary"); as=$(summary_counts "$OUT/afrkit-gluster.summary")
# The same entries, not only the same numbers: compare the sorted names.
names() { grep -v -e '^Brick ' -e '^Status: ' -e '^Number of entries: ' -e '^$' "$1" | sort; }
diff <(names "$OUT/gluster.info") <(names "$OUT/afrkit-gluster.info") >"$OUT/gluster-vs-afrkit.diff" && same=yes || same=no

echo
echo "== GlusterFS $(gluster --version | head -1 | awk '{print $2}') vs afrkit ($REV), replica 3, $GFILES files + $BENCH_GLUSTER_DIRS dirs made through FUSE with brick 3 down (median of $BENCH_REPEAT runs) =="
printf '%-8s %-26s %-26s %7s\n' mode "gluster s / peak RSS" "afrkit s / peak RSS" ratio
for mode in info summary; do
  gsv=${GSEC[gluster-$mode]} asv=${GSEC[afrkit-$mode]}
  printf '%-8s %-26s %-26s %7s\n' "$mode" "$gsv s / ${GKIB[gluster-$mode]} KiB" "$asv s / ${GKIB[afrkit-$mode]} KiB" \
    "$(awk -v g="$gsv" -v a="$asv" 'BEGIN { if (a > 0) printf "%.1fx", g / a; else print "n/a" }')"
done
echo "per-brick entries: info gluster=$gi afrkit=$ai; summary gluster=$gs afrkit=$as; same names: $same"
echo "(peak RSS of 'gluster' is the largest of the CLI and its glfsheal child; ratio = gluster s / afrkit s)"
[ "$gi" = "$ai" ] && [ "$gs" = "$as" ] && [ "$same" = yes ] || die "GlusterFS and afrkit disagree: see $OUT/gluster-vs-afrkit.diff"
