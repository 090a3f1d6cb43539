#!/usr/bin/env bash
# heal.sh: time `afrkit heal` on two replica-2 workloads, against cp -a and
# (optionally) GlusterFS's self-heal daemon. Needs root (trusted xattrs,
# drop_caches, GlusterFS).
#
#   1. missed files: brick b1 missed BENCH_FILES small files (BENCH_MIN..BENCH_MAX
#      bytes, random content) in BENCH_DIRS directories made while it was down
#      (BENCH_DIRS_DOWN=0: made while healthy), plus one BENCH_BIG_MIB MiB file of
#      random content. Times `afrkit heal hb` with a cold page cache, and as the
#      baseline `cp -a` of b0's user data (all but .glusterfs) into a fresh
#      directory on the same filesystem, cold too, plus the `sync -f` that makes
#      the copy durable (heal syncs its writes: cp+sync is the like-for-like
#      figure). cp runs twice: as is (copy_file_range in the kernel, or a reflink
#      clone where the filesystem has them, as XFS with reflink=1), and with
#      --reflink=never (read/write through user space, as the heal engine does).
#      Checks after each heal: `afrkit heal hb info summary` shows 0 entries on
#      both bricks and `diff -r` of b0 and b1 (without .glusterfs) is empty.
#      With glusterd, the same files are written through a FUSE mount of a real
#      replica-2 volume while its brick 2 is killed, and the self-heal daemon is
#      timed from `volume start force` until both bricks' heal indexes are empty
#      and `gluster volume heal VOL info summary` shows 0 entries.
#   2. patched file: a BENCH_PATCH_FILE_MIB MiB file written healthy, then
#      BENCH_PATCH_MIB MiB in its middle rewritten in place on b0 with b1 down.
#      Times `afrkit heal hb2 --algorithm diff` and, on a rebuilt volume,
#      `--algorithm full`, cold; reports the data the engine says it wrote
#      (target for diff: at most 2 MiB), the exact bytes passed to write
#      syscalls (one more, untimed run under strace, when strace is installed)
#      and the process's write_bytes (kernel accounting: whole folios dirtied).
#
# Every measurement is repeated BENCH_REPEAT times on a freshly built volume;
# the median is shown, with the load average before and after: on a shared
# 2-core machine anything else running shows up in the times. Volumes are
# removed before and after (BENCH_KEEP=1 keeps the last ones).
#
# bench/healgen builds the volumes (with the fixtures package); bench/healprof
# runs the same heal with a CPU profile, allocation counts and a per-pass
# timeline:
#   go run ./bench/healgen -dir /var/tmp/hp && sync && echo 3 >/proc/sys/vm/drop_caches
#   go run ./bench/healprof -state-dir /var/tmp/hp/state -cpuprofile heal.pprof hb
#   go tool pprof -top -cum heal.pprof; rm -rf /var/tmp/hp
#
# Environment:
#   BENCH_DIR        where volumes, binaries and outputs live (default
#                    /var/tmp/afrkit-heal-bench; with BENCH_XFS=1, $BENCH_XFS_MNT/heal)
#   BENCH_XFS        1 to run on XFS (512-byte inodes): BENCH_XFS_MNT (default
#                    /var/tmp/afrkit-bench-xfs, bench/healinfo.sh's loop mount) is
#                    mounted from BENCH_XFS_MNT.img like healinfo.sh does if it is not
#   BENCH_REPEAT     runs per measurement (default 3)
#   BENCH_JOBS       passed as `afrkit heal --jobs` (default: afrkit's, one per CPU)
#   BENCH_FILES BENCH_DIRS BENCH_MIN BENCH_MAX BENCH_BIG_MIB BENCH_DIRS_DOWN
#                    benchmark 1's workload (5000, 50, 200, 4096, 256, 1)
#   BENCH_PATCH_FILE_MIB BENCH_PATCH_MIB BENCH_PATCH_OFFSET
#                    benchmark 2's workload (1024, 1, centred: the 1 MiB straddles
#                    two of the engine's 1 MiB heal blocks)
#   BENCH_ONLY       "missed", "patch", "client" or several (default "missed patch");
#                    missed also times afrkit heald from b1's return to clean;
#                    client times a client's dd through the mount while heald
#                    heals, unthrottled and --max-rate BENCH_CLIENT_RATE (20M),
#                    against the client alone (BENCH_CLIENT_MIB, 1024)
#   BENCH_GLUSTER    0 to skip the GlusterFS self-heal daemon (default 1)
#   BENCH_GLUSTER_TIMEOUT  seconds to wait for the daemon per run (default 1800)
#   BENCH_REV        build afrkit from this git revision instead of the work tree
#   BENCH_KEEP       1 to leave the last volumes in place
#   BENCH_SETTLE     seconds between removing a volume or copy and timing the
#                    next heal or cp (default 61, see settle below; 0 to skip)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "heal.sh: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (trusted xattrs, drop_caches, GlusterFS)"

BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_FILES=${BENCH_FILES:-5000}
BENCH_DIRS=${BENCH_DIRS:-50}
BENCH_MIN=${BENCH_MIN:-200}
BENCH_MAX=${BENCH_MAX:-4096}
BENCH_BIG_MIB=${BENCH_BIG_MIB:-256}
BENCH_DIRS_DOWN=${BENCH_DIRS_DOWN:-1}
BENCH_PATCH_FILE_MIB=${BENCH_PATCH_FILE_MIB:-1024}
BENCH_PATCH_MIB=${BENCH_PATCH_MIB:-1}
BENCH_PATCH_OFFSET=${BENCH_PATCH_OFFSET:--1}
BENCH_ONLY=${BENCH_ONLY:-"missed patch"}
BENCH_GLUSTER=${BENCH_GLUSTER:-1}
BENCH_GLUSTER_TIMEOUT=${BENCH_GLUSTER_TIMEOUT:-1800}

if [ "${BENCH_XFS:-0}" = 1 ]; then
  XFS_MNT=${BENCH_XFS_MNT:-/var/tmp/afrkit-bench-xfs}
  if ! mountpoint -q "$XFS_MNT"; then
    img=${XFS_MNT%/}.img
    if [ ! -e "$img" ]; then
      log "making a ${BENCH_XFS_SIZE:-40G} XFS image $img"
      truncate -s "${BENCH_XFS_SIZE:-40G}" "$img"
      mkfs.xfs -q -i size=512 "$img"
    fi
    mkdir -p "$XFS_MNT"
    dev=$(losetup --direct-io=on -f --show "$img")
    mount "$dev" "$XFS_MNT"
    log "mounted $img ($dev) on $XFS_MNT"
  fi
  BENCH_DIR=${BENCH_DIR:-$XFS_MNT/heal}
fi
BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-heal-bench}
BIN=$BENCH_DIR/bin
OUT=$BENCH_DIR/out
V1=$BENCH_DIR/vol-hb
V2=$BENCH_DIR/vol-hb2
CPDIR=$BENCH_DIR/cp-copy
GROOT=$BENCH_DIR/gluster
mkdir -p "$BIN" "$OUT"

remove_volumes() { rm -rf "${V1:?}" "${V2:?}" "${CPDIR:?}"; }
remove_volumes

if [ ! -x /usr/bin/time ]; then
  log "installing time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
fi

log "building afrkit${BENCH_REV:+ at $BENCH_REV} and bench/healgen into $BIN"
if [ -n "${BENCH_REV:-}" ]; then
  src=$(mktemp -d)
  git archive "$BENCH_REV" | tar -x -C "$src"
  (cd "$src" && go build -o "$BIN/afrkit" ./cmd/afrkit)
  rm -rf "$src"
  REV=$(git rev-parse --short "$BENCH_REV")
else
  go build -o "$BIN/afrkit" ./cmd/afrkit
  REV="work tree on $(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- . ':!bench' || REV="$REV (with uncommitted changes)"
fi
go build -o "$BIN/healgen" ./bench/healgen
AFRKIT=$BIN/afrkit
JOBS=()
[ -n "${BENCH_JOBS:-}" ] && JOBS=(--jobs "$BENCH_JOBS")

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# timed OUTFILE CMD...: runs CMD (stdout to OUTFILE, stderr to OUTFILE.err)
# under /usr/bin/time; sets T_SEC, T_KIB (peak RSS), T_WB and T_RB (the
# process tree's write_bytes and read_bytes, from its rusage block counts).
timed() {
  local out=$1 tf; shift
  tf=$(mktemp)
  if ! /usr/bin/time -f '%e %M %O %I' -o "$tf" "$@" >"$out" 2>"$out.err"; then
    cat "$out" "$out.err" "$tf" >&2; rm -f "$tf"; die "$*"
  fi
  read -r T_SEC T_KIB T_WB T_RB < <(tail -1 "$tf")
  T_WB=$((T_WB * 512)) T_RB=$((T_RB * 512))
  rm -f "$tf"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# settle FREED: waits until BENCH_SETTLE seconds (default 61) have passed
# since FREED, the time the previous volume or copy was removed. ext4
# without a journal (as /var/tmp is here) does not reuse an inode freed in
# the last 60 seconds, so a run that starts right after an rm -rf of a
# thousands of files searches past them for every file it creates: heal
# and cp would each be timed with a handicap that depends on what ran just
# before them.
settle() {
  local wait=$(( $1 + ${BENCH_SETTLE:-61} - $(date +%s) ))
  if [ "$wait" -gt 0 ]; then log "waiting $wait s for freed inodes to become reusable"; sleep "$wait"; fi
}

# summary_zero VOLDIR VOL: afrkit's info summary shows 0 entries on both bricks.
summary_zero() {
  local s
  s=$(AFRKIT_STATE_DIR=$1/state "$AFRKIT" heal "$2" info summary) || return 1
  [ "$(grep -c '^Total Number of entries: 0$' <<<"$s")" = 2 ] || { echo "$s" >&2; return 1; }
}

# same_tree A B [mtimes]: the user data of two bricks is identical (fatal),
# and so are modes and sizes and, with "mtimes", the inode mtimes of the
# files the workload made (a warning; fixtures.Healthy's own files get each
# brick's own time, and GlusterFS keeps times in its mdata xattr, not the
# inode).
same_tree() {
  diff -r --no-dereference -x '.glusterfs*' "$1" "$2" >"$OUT/diff.txt" 2>&1 ||
    { head -20 "$OUT/diff.txt" >&2; die "diff -r $1 $2 is not empty (see $OUT/diff.txt)"; }
  local fmt='%p %M %s\n'
  [ "${3:-}" = mtimes ] && fmt='%p %M %s %T@\n'
  listing() {
    (cd "$1" && find . -path './.glusterfs*' -prune -o \( -type f -path './[db][0-9i]*' -printf "$fmt" \) -o -printf '%p %M\n' | sort)
  }
  if ! diff <(listing "$1") <(listing "$2") >"$OUT/meta.diff"; then
    WARN+=("$1 vs $2: modes/sizes${3:+/mtimes} differ on $(grep -c '^<' "$OUT/meta.diff") entries, e.g. $(grep -m1 '^<' "$OUT/meta.diff") vs $(grep -m1 '^>' "$OUT/meta.diff")")
  fi
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WARN=()
FS="$(findmnt -n -o FSTYPE --target "$BENCH_DIR") on $(findmnt -n -o SOURCE --target "$BENCH_DIR")"
RES=()
res() { RES+=("$*"); }

# ---------------------------------------------------------------------------
# Benchmark 1: files missed by b1.
# ---------------------------------------------------------------------------
bench_missed() {
  local r v c line hs=() hk=() hw=() hb=() cs=("" "") ss=("" "") cps=("" "") heal_out freed
  local dd=true; [ "$BENCH_DIRS_DOWN" = 1 ] || dd=false
  for r in $(seq "$BENCH_REPEAT"); do
    rm -rf "${V1:?}" "${CPDIR:?}"; sync
    freed=$(date +%s)
    line=$("$BIN/healgen" -mode missed -dir "$V1" -name hb -files "$BENCH_FILES" -dirs "$BENCH_DIRS" \
      -min "$BENCH_MIN" -max "$BENCH_MAX" -big $((BENCH_BIG_MIB << 20)) -dirs-down="$dd")
    log "missed run $r: $line"
    GEN1=$line
    heal_out=$OUT/hb.heal
    settle "$freed"
    drop_caches
    AFRKIT_STATE_DIR=$V1/state timed "$heal_out" "$AFRKIT" heal hb "${JOBS[@]}"
    hs+=("$T_SEC") hk+=("$T_KIB") hw+=("$T_WB")
    hb+=("$(grep -oP 'wrote \K[0-9.]+ [KMG]?i?B' "$heal_out" || echo '?')")
    log "missed run $r: heal $T_SEC s, peak RSS $T_KIB KiB, write_bytes $(mib "$T_WB"): $(head -1 "$heal_out")"
    summary_zero "$V1" hb || die "afrkit heal hb info summary does not show 0 entries after the heal"
    same_tree "$V1/b0" "$V1/b1" mtimes

    # cp -a as is (copy_file_range on ext4; a reflink clone where the
    # filesystem can, e.g. XFS with reflink=1: no data copied at all), and
    # forced to copy through user space like the heal engine does.
    for v in 0 1; do
      rm -rf "${CPDIR:?}"; sync; freed=$(date +%s); mkdir -p "$CPDIR"
      settle "$freed"
      drop_caches
      timed /dev/null bash -c 'cd "$1" && find . -mindepth 1 -maxdepth 1 ! -name ".glusterfs*" -exec cp -a ${2:+"$2"} -t "$3" {} +' \
        _ "$V1/b0" "$([ $v = 1 ] && echo --reflink=never)" "$CPDIR"
      c=$T_SEC
      timed /dev/null sync -f "$CPDIR"
      cs[v]+=" $c" ss[v]+=" $T_SEC" cps[v]+=" $(awk -v a="$c" -v b="$T_SEC" 'BEGIN { print a + b }')"
      log "missed run $r: cp -a$([ $v = 1 ] && echo ' --reflink=never') $c s, then sync -f $T_SEC s"
    done
  done
  HEAL1=$(median "${hs[@]}")
  res "== 1. b1 missed $BENCH_FILES files ($BENCH_MIN-$BENCH_MAX B) in $BENCH_DIRS dirs (made while b1 was $([ "$dd" = true ] && echo down || echo up)) + a $BENCH_BIG_MIB MiB file =="
  res "$(printf '  %-34s %7s s   (runs: %s; peak RSS %s KiB; engine wrote %s; write_bytes %s)' \
    "afrkit heal hb" "$HEAL1" "${hs[*]}" "$(median "${hk[@]}")" "${hb[0]}" "$(mib "$(median "${hw[@]}")")")"
  local ratios=()
  for v in 0 1; do
    local cs_med ss_med cps_med
    # shellcheck disable=SC2086
    cs_med=$(median ${cs[v]}) ss_med=$(median ${ss[v]}) cps_med=$(median ${cps[v]})
    res "$(printf '  %-34s %7s s   (cp runs:%s; + sync -f: median %s s)' \
      "cp -a$([ $v = 1 ] && echo ' --reflink=never') b0 + sync -f" "$cps_med" "${cs[v]}" "$ss_med")"
    ratios+=("$(ratio "$HEAL1" "$cps_med")")
  done
  res "  ratio heal/(cp+sync): ${ratios[0]} against cp -a, ${ratios[1]} against cp -a --reflink=never   (target: within 1.5x)"
  res "  (cp copies b0's user data, all but .glusterfs, into a fresh directory on the same filesystem)"
  res "  verified after every heal: info summary 0 on both bricks, diff -r b0 b1 empty"
}

# ---------------------------------------------------------------------------
# Benchmark 1 against GlusterFS's self-heal daemon.
# ---------------------------------------------------------------------------
GVOL=afrheal-bench
GMNT=$GROOT/mnt
g() { gluster --mode=script "$@"; }
gluster_cleanup() {
  if mountpoint -q "$GMNT" 2>/dev/null; then umount -l "$GMNT" || true; fi
  if command -v gluster >/dev/null && g volume info "$GVOL" >/dev/null 2>&1; then
    g volume stop "$GVOL" force >/dev/null 2>&1 || true
    g volume delete "$GVOL" >/dev/null 2>&1 || true
  fi
  rm -rf "${GROOT:?}"
}

# pending_index B...: entries left in the bricks' heal indexes (xattrop,
# dirty, entry-changes), not counting the base files.
pending_index() {
  local b n=0
  for b in "$@"; do
    n=$((n + $(find "$b/.glusterfs/indices" -mindepth 2 ! -name 'xattrop-*' ! -name 'dirty-*' ! -name 'entry-changes-*' 2>/dev/null | wc -l)))
  done
  echo "$n"
}

bench_gluster() {
  if [ "$BENCH_GLUSTER" = 0 ]; then res "  GlusterFS self-heal daemon: skipped (BENCH_GLUSTER=0)"; return; fi
  if ! command -v gluster >/dev/null || ! command -v glusterd >/dev/null; then
    res "  GlusterFS self-heal daemon: skipped (glusterfs-server is not installed)"; return
  fi
  pgrep -x glusterd >/dev/null || { log "starting glusterd"; glusterd -p /run/glusterd.pid; sleep 3; }
  local host r pid p t0 t1 sec ws=() hs=() b1 b2 s
  host=$(hostname)
  trap gluster_cleanup EXIT
  for r in $(seq "$BENCH_REPEAT"); do
    gluster_cleanup
    b1=$GROOT/b1 b2=$GROOT/b2
    mkdir -p "$b1" "$b2" "$GMNT"
    g volume create "$GVOL" replica 2 "$host:$b1" "$host:$b2" force >/dev/null
    # Writes must succeed with a brick down, and the client must not heal
    # on its own: only the self-heal daemon (on, as by default) heals.
    for o in cluster.quorum-type=none cluster.data-self-heal=off cluster.metadata-self-heal=off \
             cluster.entry-self-heal=off performance.stat-prefetch=off performance.quick-read=off \
             performance.io-cache=off performance.read-ahead=off; do
      g volume set "$GVOL" "${o%%=*}" "${o#*=}" >/dev/null
    done
    g volume start "$GVOL" >/dev/null
    mount -t glusterfs "$host:/$GVOL" "$GMNT"
    pid=$(gluster volume status "$GVOL" "$host:$b2" --xml | grep -oP '(?<=<pid>)-?\d+' | head -1)
    [ -n "$pid" ] && [ "$pid" -gt 0 ] || die "GlusterFS: no pid for brick 2"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    timed "$OUT/gluster.gen" "$BIN/healgen" -mode tree -out "$GMNT" -files "$BENCH_FILES" -dirs "$BENCH_DIRS" \
      -min "$BENCH_MIN" -max "$BENCH_MAX" -big $((BENCH_BIG_MIB << 20))
    ws+=("$T_SEC")
    log "gluster run $r: wrote the files through FUSE with brick 2 down in $T_SEC s; $(pending_index "$b1") index entries on brick 1"
    drop_caches
    t0=$(date +%s.%N)
    g volume start "$GVOL" force >/dev/null
    while :; do
      sec=$(echo "$(date +%s.%N) - $t0" | bc)
      awk -v s="$sec" -v m="$BENCH_GLUSTER_TIMEOUT" 'BEGIN { exit !(s > m) }' &&
        die "GlusterFS: not healed after $BENCH_GLUSTER_TIMEOUT s ($(pending_index "$b1" "$b2") index entries left)"
      if [ "$(pending_index "$b1" "$b2")" = 0 ]; then
        t1=$(date +%s.%N)
        s=$(gluster volume heal "$GVOL" info summary 2>&1 || true)
        if [ "$(grep -c '^Total Number of entries: 0$' <<<"$s")" = 2 ]; then break; fi
      fi
      sleep 0.25
    done
    sec=$(echo "$t1 - $t0" | bc | awk '{printf "%.2f", $1}')
    hs+=("$sec")
    log "gluster run $r: healed in $sec s"
    same_tree "$b1" "$b2"
    GTHREADS=$(g volume get "$GVOL" cluster.shd-max-threads | awk '/shd-max-threads/ {print $2}')
    gluster_cleanup
  done
  trap - EXIT
  GSHD=$(median "${hs[@]}")
  res "$(printf '  %-34s %7s s   (runs: %s; %s, shd-max-threads %s)' \
    "GlusterFS self-heal daemon" "$GSHD" "${hs[*]}" "$(gluster --version | head -1)" "$GTHREADS")"
  res "  ratio GlusterFS shd / afrkit heal: $(ratio "$GSHD" "$HEAL1")   (shd timed from 'volume start force' to empty indexes, confirmed by heal info summary)"
}

# ---------------------------------------------------------------------------
# Benchmark 1 by the heal daemon: from the brick's return to clean, and a
# client's write throughput through the mount while the daemon heals.
# ---------------------------------------------------------------------------
HEALD_SOCK=$BENCH_DIR/heald.sock
heald_start() { # heald_start STATEDIR [ARGS...]: afrkit heald in the background, answering
  local st=$1; shift
  AFRKIT_STATE_DIR=$st "$AFRKIT" heald --socket "$HEALD_SOCK" "$@" >"$OUT/heald.log" 2>&1 &
  HEALD_PID=$!
  for _ in $(seq 100); do
    AFRKIT_STATE_DIR=$st "$AFRKIT" heal hb status --heald-socket "$HEALD_SOCK" 2>/dev/null | grep -q 'heal daemon (pid' && return
    sleep 0.1
  done
  die "afrkit heald did not answer (see $OUT/heald.log)"
}
heald_stop() { kill -TERM "$HEALD_PID" 2>/dev/null || true; wait "$HEALD_PID" 2>/dev/null || true; }

bench_heald() {
  local r freed t0 t1 sec hs=()
  local dd=true; [ "$BENCH_DIRS_DOWN" = 1 ] || dd=false
  for r in $(seq "$BENCH_REPEAT"); do
    rm -rf "${V1:?}"; sync; freed=$(date +%s)
    "$BIN/healgen" -mode missed -dir "$V1" -name hb -files "$BENCH_FILES" -dirs "$BENCH_DIRS" \
      -min "$BENCH_MIN" -max "$BENCH_MAX" -big $((BENCH_BIG_MIB << 20)) -dirs-down="$dd" >/dev/null
    # b1 is away while the daemon starts; its return is what the daemon
    # heals, as GlusterFS's shd heals a brick that comes back.
    mv "$V1/b1" "$V1/b1.away"
    heald_start "$V1/state" --probe 1s
    settle "$freed"
    drop_caches
    t0=$(date +%s.%N)
    mv "$V1/b1.away" "$V1/b1"
    until summary_zero "$V1" hb 2>/dev/null; do sleep 0.1; done
    t1=$(date +%s.%N)
    heald_stop
    sec=$(echo "$t1 - $t0" | bc | awk '{printf "%.2f", $1}')
    hs+=("$sec")
    log "heald run $r: brick up to clean in $sec s"
    same_tree "$V1/b0" "$V1/b1" mtimes
  done
  HEALD1=$(median "${hs[@]}")
  res "$(printf '  %-34s %7s s   (runs: %s; from b1 back to clean; probe every %s, shd-max-threads 1, idle I/O class)' \
    "afrkit heald" "$HEALD1" "${hs[*]}" "1s")"
}

# bench_client: a client writes BENCH_CLIENT_MIB MiB through afrkit's mount
# (dd, fsync): with no heal, then while the daemon heals benchmark 1's
# backlog (its default idle I/O class), unthrottled and with --max-rate
# BENCH_CLIENT_RATE. The client starts once the daemon says it heals, and a
# figure counts only if the daemon still heals when the client is done:
# otherwise the heal did not overlap the client's writes, and it says so.
healing_now() { AFRKIT_STATE_DIR=$1 "$AFRKIT" heal hb status --heald-socket "$HEALD_SOCK" 2>/dev/null | grep -q 'healing now'; }
bench_client() {
  local mnt=$BENCH_DIR/mnt mode r sec base="" note
  local -A runs=() notes=()
  mkdir -p "$mnt"
  # The modes take turns, run after run, so that a drift of the machine
  # (writeback, the loop device's cache) does not favour one.
  for r in $(seq "$BENCH_REPEAT"); do
    for mode in none heal throttled; do
      rm -rf "${V1:?}"; sync
      "$BIN/healgen" -mode missed -dir "$V1" -name hb -files "$BENCH_FILES" -dirs "$BENCH_DIRS" \
        -min "$BENCH_MIN" -max "$BENCH_MAX" -big $((BENCH_BIG_MIB << 20)) >/dev/null
      AFRKIT_STATE_DIR=$V1/state "$AFRKIT" mount hb "$mnt"
      drop_caches
      note=""
      case $mode in
        heal) heald_start "$V1/state" ;;
        throttled) heald_start "$V1/state" --max-rate "$BENCH_CLIENT_RATE" ;;
      esac
      if [ "$mode" != none ]; then
        for _ in $(seq 100); do healing_now "$V1/state" && break; sleep 0.05; done
        healing_now "$V1/state" || note="run $r: the daemon was not healing yet when the client started; "
      fi
      timed /dev/null dd if=/dev/zero of="$mnt/client.bin" bs=1M count="$BENCH_CLIENT_MIB" conv=fsync status=none
      sec=$T_SEC
      if [ "$mode" != none ] && ! healing_now "$V1/state"; then
        note="${note}run $r: the heal ended before the client's writes did; "
      fi
      runs[$mode]+="$(awk -v m="$BENCH_CLIENT_MIB" -v s="$sec" 'BEGIN { printf "%.1f", m * 1.048576 / s }') "
      notes[$mode]+=$note
      [ "$mode" = none ] || heald_stop
      AFRKIT_STATE_DIR=$V1/state "$AFRKIT" umount "$mnt"
      log "client run $r, heal $mode: $sec s$([ -n "$note" ] && echo "; $note")"
    done
  done
  # shellcheck disable=SC2086 # the runs are words
  base=$(median ${runs[none]})
  for mode in none heal throttled; do
    # shellcheck disable=SC2086
    res "$(printf '  %-34s %7s MB/s (%s of the client alone; runs: %s)%s' "client dd, heal: $mode" "$(median ${runs[$mode]})" \
      "$(ratio "$(median ${runs[$mode]})" "$base")" "${runs[$mode]% }" "${notes[$mode]:+ (${notes[$mode]%; })}")"
  done
}
BENCH_CLIENT_MIB=${BENCH_CLIENT_MIB:-1024}
BENCH_CLIENT_RATE=${BENCH_CLIENT_RATE:-20M}

# ---------------------------------------------------------------------------
# Benchmark 2: 1 MiB patched in a 1 GiB file.
# ---------------------------------------------------------------------------
bench_patch() {
  local algo r line heal_out hs hk hw hr hb sysb
  res "== 2. a $BENCH_PATCH_FILE_MIB MiB file with $BENCH_PATCH_MIB MiB rewritten on b0 while b1 was down =="
  gen_patch() {
    rm -rf "${V2:?}"
    line=$("$BIN/healgen" -mode patch -dir "$V2" -name hb2 -size $((BENCH_PATCH_FILE_MIB << 20)) \
      -patch $((BENCH_PATCH_MIB << 20)) -offset "$BENCH_PATCH_OFFSET")
    log "patch $algo: $line"
  }
  check_patch() {
    summary_zero "$V2" hb2 || die "afrkit heal hb2 info summary does not show 0 entries after the $algo heal"
    cmp -s "$V2/b0/big.bin" "$V2/b1/big.bin" || die "b0 and b1 differ after the $algo heal"
    same_tree "$V2/b0" "$V2/b1" mtimes
  }
  for algo in diff full; do
    hs=() hk=() hw=() hr=() hb=()
    for r in $(seq "$BENCH_REPEAT"); do
      gen_patch
      heal_out=$OUT/hb2.heal
      drop_caches
      AFRKIT_STATE_DIR=$V2/state timed "$heal_out" "$AFRKIT" heal hb2 --algorithm "$algo" "${JOBS[@]}"
      hs+=("$T_SEC") hk+=("$T_KIB") hw+=("$T_WB") hr+=("$T_RB")
      hb+=("$(grep -oP 'wrote \K[0-9.]+ [KMG]?i?B' "$heal_out" || echo '?')")
      log "patch $algo run $r: $T_SEC s, peak RSS $T_KIB KiB, write_bytes $(mib "$T_WB"), read_bytes $(mib "$T_RB"): $(head -1 "$heal_out")"
      check_patch
    done
    # One more, untimed run under strace: the exact bytes the process
    # passed to write syscalls on files (not stdout/stderr).
    sysb=n/a
    if command -v strace >/dev/null; then
      gen_patch
      AFRKIT_STATE_DIR=$V2/state strace -f -qq -e trace=write,pwrite64,pwritev,pwritev2,copy_file_range \
        -o "$OUT/hb2.strace" "$AFRKIT" heal hb2 --algorithm "$algo" "${JOBS[@]}" >/dev/null
      check_patch
      sysb=$(grep -vE '(write|pwrite64)\((1|2),' "$OUT/hb2.strace" | grep -oP '= \K[0-9]+$' | awk '{s+=$1} END {print s+0}')
      log "patch $algo under strace: $sysb bytes written by syscalls ($(grep -vcE '(write|pwrite64)\((1|2),' "$OUT/hb2.strace") calls)"
      sysb="$sysb B"
    fi
    res "$(printf '  %-34s %7s s   (runs: %s; peak RSS %s KiB; engine wrote %s = %s by write syscalls; write_bytes %s; read_bytes %s)' \
      "afrkit heal --algorithm $algo" "$(median "${hs[@]}")" "${hs[*]}" "$(median "${hk[@]}")" \
      "$(printf '%s\n' "${hb[@]}" | sort -u | paste -sd/ -)" "$sysb" "$(mib "$(median "${hw[@]}")")" "$(mib "$(median "${hr[@]}")")")"
  done
  res "  target for diff: at most 2 MiB written. verified after every heal: info summary 0, cmp b0 b1 equal"
  res "  (write_bytes is the kernel's per-process I/O accounting: whole page-cache folios dirtied, so it can exceed the bytes written)"
}

for b in $BENCH_ONLY; do
  case $b in
    missed) bench_missed; bench_heald; bench_gluster; [ -z "${GSHD:-}" ] || res "  ratio GlusterFS shd / afrkit heald: $(ratio "$GSHD" "$HEALD1")" ;;
    client) bench_client ;;
    patch) bench_patch ;;
    *) die "BENCH_ONLY: unknown benchmark $b" ;;
  esac
done
[ "${BENCH_KEEP:-0}" = 1 ] || remove_volumes

echo
echo "afrkit heal ($REV), $(nproc) CPUs, $BENCH_DIR on $FS, cold page cache, median of $BENCH_REPEAT; load average $LOAD0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
printf '%s\n' "${RES[@]}"
for w in "${WARN[@]}"; do echo "WARNING: $w"; done
