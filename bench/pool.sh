#!/usr/bin/env bash
# pool.sh: heal info of a replica-3 GlusterFS volume spread over three servers, afrkit's
# against GlusterFS's own, on the same pending entries in one run.
#
# The three servers are three glusterds on this machine, on 127.1.1.1-3, each with its own
# working and run directories and socket, as GlusterFS's tests/cluster.rc runs them. afrkit
# runs "on" the first: it reads that server's brick from its directory and the other two over
# the network through libgfapi. GlusterFS's heal info is glfsheal (what `gluster volume heal VOL
# info` runs) against the first server's glusterd. The default glusterd is stopped while the
# pool runs and started again at the end.
#
#   bench/pool.sh                      10,000 entries
#   BENCH_POOL_FILES=50000 bench/pool.sh
#
# Environment:
#   BENCH_POOL_DIR    where the pool lives (default /var/tmp/afrkit-pool-bench; removed after)
#   BENCH_POOL_FILES  files written while the third server's brick is down (default 10000)
#   BENCH_POOL_DIRS   directories they are spread over (default 10)
#   BENCH_REPEAT      runs of each heal info; the median is shown (default 3)
#   BENCH_POOL_KEEP   1 leaves the pool running afterwards (to profile); the next run cleans up
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${BENCH_POOL_DIR:-/var/tmp/afrkit-pool-bench}
FILES=${BENCH_POOL_FILES:-10000}
DIRS=${BENCH_POOL_DIRS:-10}
REPEAT=${BENCH_REPEAT:-3}
GLFSHEAL=/usr/lib/x86_64-linux-gnu/glusterfs/glfsheal
VOL=benchpool

log() { echo "pool.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (glusterd, FUSE, trusted xattrs)"
[ -x "$GLFSHEAL" ] || die "GlusterFS's glfsheal is not at $GLFSHEAL (apt-get install glusterfs-server)"

# The interop tests share the default glusterd, which the pool stops: take
# their locks as a pool test does (fixtures/glustertest/pool.go), so that
# neither runs under the other.
exec 8>/run/afrkit-glustertest.gate
flock 8
exec 9>/run/afrkit-glustertest.lock
flock 9

log "building afrkit"
mkdir -p "$DIR"
go build -o "$DIR/afrkit" ./cmd/afrkit

cli() { gluster --mode=script --glusterd-sock="$DIR/$1/glusterd/gd.sock" "${@:2}"; }

cleanup() {
  umount -l "$DIR/mnt" 2>/dev/null || true
  cli 1 volume stop $VOL force >/dev/null 2>&1 || true
  pkill -TERM -f "$DIR/" 2>/dev/null || true
  sleep 1
  pkill -KILL -f "$DIR/" 2>/dev/null || true
  rm -rf "$DIR"
  # Started without the lock files' descriptors, which a daemon would
  # otherwise hold, and the locks with them, for ever.
  pgrep -x glusterd >/dev/null || glusterd -p /run/glusterd.pid 8>&- 9>&-
}
[ "${BENCH_POOL_KEEP:-0}" = 1 ] || trap cleanup EXIT

# A pool an earlier BENCH_POOL_KEEP=1 run left goes first.
if [ -d "$DIR/1" ]; then
  umount -l "$DIR/mnt" 2>/dev/null || true
  pkill -KILL -f "$DIR/" 2>/dev/null || true
  sleep 1
  rm -rf "$DIR/1" "$DIR/2" "$DIR/3" "$DIR/state"
fi

log "stopping the default glusterd; starting three on 127.1.1.1-3"
pkill -x glusterd 2>/dev/null || true
while pgrep -x glusterd >/dev/null; do sleep 0.2; done
for i in 1 2 3; do
  d=$DIR/$i
  mkdir -p "$d/glusterd" "$d/run" "$d/log" "$d/bricks"
  glusterd --xlator-option management.working-directory="$d/glusterd" \
    --xlator-option management.transport.socket.bind-address=127.1.1.$i \
    --xlator-option management.run-directory="$d/run" \
    --xlator-option management.glusterd-sockfile="$d/glusterd/gd.sock" \
    --xlator-option management.logging-directory="$d/log" \
    --log-file="$d/log/glusterd.log" --pid-file="$d/glusterd.pid" 8>&- 9>&-
done
for i in 1 2 3; do until cli $i volume list >/dev/null 2>&1; do sleep 0.2; done; done
cli 1 peer probe 127.1.1.2 >/dev/null
cli 1 peer probe 127.1.1.3 >/dev/null
until [ "$(cli 1 peer status | grep -c 'Peer in Cluster (Connected)')" = 2 ]; do sleep 0.3; done

cli 1 volume create $VOL replica 3 127.1.1.1:$DIR/1/bricks/b 127.1.1.2:$DIR/2/bricks/b 127.1.1.3:$DIR/3/bricks/b force >/dev/null
for o in cluster.self-heal-daemon cluster.data-self-heal cluster.metadata-self-heal cluster.entry-self-heal; do
  cli 1 volume set $VOL $o off >/dev/null
done
cli 1 volume set $VOL cluster.quorum-type none >/dev/null
cli 1 volume start $VOL >/dev/null
mkdir -p "$DIR/mnt"
mount -t glusterfs 127.1.1.1:/$VOL "$DIR/mnt" 8>&- 9>&-

brick_pid() { cli 1 volume status $VOL "127.1.1.$1:$DIR/$1/bricks/b" --xml | sed -n 's:.*<pid>\([0-9]*\)</pid>.*:\1:p'; }
pid=$(brick_pid 3)
log "killing the third server's brick (pid $pid), then writing $FILES files in $DIRS directories"
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
sleep 3 # the client notices the brick is gone
per=$((FILES / DIRS))
for d in $(seq 1 "$DIRS"); do
  mkdir "$DIR/mnt/d$d"
  (cd "$DIR/mnt/d$d" && seq 1 "$per" | xargs touch)
done
sleep 2 # AFR's delayed post-op lands
log "bringing the brick back"
cli 1 volume start $VOL force >/dev/null
sleep 5

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() { # command... -> seconds, output in $DIR/last.out
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$DIR/last.out"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

theirs=() ours=()
for _ in $(seq 1 "$REPEAT"); do
  theirs+=("$(time_of "$GLFSHEAL" $VOL --xml glusterd-sock "$DIR/1/glusterd/gd.sock")")
  cp "$DIR/last.out" "$DIR/theirs.xml"
  ours+=("$(time_of "$DIR/afrkit" --glusterd-dir "$DIR/1/glusterd" --state-dir "$DIR/state" heal $VOL info --xml)")
  cp "$DIR/last.out" "$DIR/ours.xml"
done
count() { grep -o '<numberOfEntries>[0-9-]*' "$1" | sed 's/.*>//' | tr '\n' ' '; }
log "entries per brick: GlusterFS $(count "$DIR/theirs.xml"), afrkit $(count "$DIR/ours.xml")"
if ! cmp -s <(grep -v '<file' "$DIR/theirs.xml") <(grep -v '<file' "$DIR/ours.xml") ||
   ! cmp -s <(grep -o 'gfid="[^"]*"' "$DIR/theirs.xml" | sort) <(grep -o 'gfid="[^"]*"' "$DIR/ours.xml" | sort); then
  log "the two reports differ"
  diff <(grep -v '<file' "$DIR/theirs.xml") <(grep -v '<file' "$DIR/ours.xml") | head -20 >&2 || true
  exit 1
fi
t=$(printf '%s\n' "${theirs[@]}" | median)
o=$(printf '%s\n' "${ours[@]}" | median)
printf 'heal info, replica 3 over 3 servers, %d files pending (median of %d)\n' "$FILES" "$REPEAT"
printf '  GlusterFS (glfsheal)  %8.3f s\n' "$t"
printf '  afrkit                %8.3f s\n' "$o"
printf '  afrkit is %.1fx faster\n' "$(echo "$t / $o" | bc -l)"
