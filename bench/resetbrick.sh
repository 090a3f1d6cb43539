#!/usr/bin/env bash
# resetbrick.sh: time putting a new empty disk into a replica-2 volume,
# `afrkit volume reset-brick` (stamp, mark, heal full), against the bare copy
# of the same data: `cp -a` of the good brick's user data (all but
# .glusterfs) into a fresh directory on the same filesystem, plus the
# `sync -f` that makes it durable, as heal's writes are. Needs root (trusted
# xattrs, drop_caches).
#
# The volume is bench/healgen's missed-files volume (BENCH_FILES small files
# in BENCH_DIRS directories and one BENCH_BIG_MIB MiB file), healed first so
# that both bricks hold everything; then b1 is removed and made again empty
# (a new disk on its mount point). Each measurement runs BENCH_REPEAT times
# on a freshly built volume with a cold page cache; the medians and their
# ratio are printed. After each reset-brick it checks that heal info shows 0
# entries and that `diff -r` of the bricks' user data is empty.
#
# Environment: BENCH_DIR (default /var/tmp/afrkit-resetbrick-bench),
# BENCH_REPEAT (3), BENCH_FILES (5000), BENCH_DIRS (50), BENCH_BIG_MIB (64).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "resetbrick.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (trusted xattrs, drop_caches)"
DIR=${BENCH_DIR:-/var/tmp/afrkit-resetbrick-bench}
REPEAT=${BENCH_REPEAT:-3}
FILES=${BENCH_FILES:-5000}
DIRS=${BENCH_DIRS:-50}
BIG=$(( ${BENCH_BIG_MIB:-64} << 20 ))
BIN=$DIR/bin
rm -rf "$DIR"
mkdir -p "$BIN"
go build -o "$BIN/afrkit" ./cmd/afrkit
go build -o "$BIN/healgen" ./bench/healgen

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# build makes a volume with both bricks full, then empties b1.
build() {
	local v=$DIR/vol
	rm -rf "$v"
	"$BIN/healgen" -mode missed -dir "$v" -files "$FILES" -dirs "$DIRS" -big "$BIG" >/dev/null
	"$BIN/afrkit" --state-dir "$v/state" --glusterd-dir "$v/no-glusterd" heal hb >/dev/null
	rm -rf "$v/b1"
	mkdir "$v/b1"
	drop_caches
}

: >"$DIR/reset.times"
: >"$DIR/cp.times"
for i in $(seq "$REPEAT"); do
	build
	v=$DIR/vol
	t0=$(now)
	"$BIN/afrkit" --state-dir "$v/state" --glusterd-dir "$v/no-glusterd" volume reset-brick hb "$v/b1" >"$DIR/reset.out"
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$DIR/reset.times"
	"$BIN/afrkit" --state-dir "$v/state" --glusterd-dir "$v/no-glusterd" heal hb info summary | grep -c "Total Number of entries: 0" | grep -qx 2 ||
		die "heal info shows entries after reset-brick"
	diff -r --exclude=.glusterfs "$v/b0" "$v/b1" >/dev/null || die "b1 differs from b0 after reset-brick"

	build
	mkdir "$DIR/copy"
	t0=$(now)
	(cd "$v/b0" && find . -mindepth 1 -maxdepth 1 ! -name .glusterfs -exec cp -a {} "$DIR/copy/" \;)
	sync -f "$DIR/copy"
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$DIR/cp.times"
	rm -rf "$DIR/copy"
done
reset=$(median <"$DIR/reset.times")
cp=$(median <"$DIR/cp.times")
echo "files=$FILES dirs=$DIRS big_mib=$((BIG >> 20)) repeat=$REPEAT load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "reset-brick (stamp, mark, heal full): median ${reset}s  [$(tr '\n' ' ' <"$DIR/reset.times")]"
echo "cp -a + sync -f of the same data:     median ${cp}s  [$(tr '\n' ' ' <"$DIR/cp.times")]"
echo "ratio reset-brick / cp -a: $(echo "scale=2; $reset / $cp" | bc)"
rm -rf "$DIR"
