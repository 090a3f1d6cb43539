#!/usr/bin/env bash
# mount.sh: afrkit's FUSE mount of a replica-3 volume against GlusterFS's
# FUSE mount of a replica-3 volume (default options), go-fuse's loopback
# example and the bare directory, in one invocation, all on the disk that
# holds BENCH_DIR. Needs root (trusted xattrs, mount, drop_caches) and a
# running glusterd for the GlusterFS row (skipped without it).
#
# Rows, each run on a fresh empty mount with a cold page cache:
#   write   1 GiB written sequentially (1 MiB blocks) and fsync'd: MB/s
#   read    that file read back cold: MB/s
#   untar   Go's own source tree (GOROOT/src, ~11,500 files) untarred: s
#   small   10,000 files of 4 KiB written: s
#   stat    every file of the untarred tree and the small files stat'ed cold: s
# and the afrkit mount process's peak RSS (VmHWM). The last lines give
# every row as a ratio: afrkit against GlusterFS, and against the bare
# disk divided by the replica count for the write row.
#
# Every target runs on one new ext4 file system, made for the run on a
# loop file beside BENCH_DIR, with 512-byte inodes as GlusterFS asks of
# its bricks (mkfs.xfs -i size=512 in its admin guide): the trusted.*
# xattrs of a brick entry (gfid, gfid2path, mdata, changelog) then fit in
# the inode, where 256-byte inodes put them in a block of their own. A
# new file system also spares every target the aging of a disk that has
# seen millions of files made and removed (ext4's search for a free
# inode slows down). BENCH_FS=dir runs in BENCH_DIR as it is instead.
#
# Environment: BENCH_DIR (default /var/tmp/afrkit-mount-bench),
# BENCH_SKIP (space-separated targets to leave out: afrkit gluster
# loopback bare), BENCH_SIZE_MIB (1024), BENCH_FS (loop or dir),
# BENCH_FS_GIB (the loop file system's size, 24).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "mount.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (trusted xattrs, mount, drop_caches)"
DIR=${BENCH_DIR:-/var/tmp/afrkit-mount-bench}
SKIP=" ${BENCH_SKIP:-} "
SIZE=${BENCH_SIZE_MIB:-1024}
BIN=$DIR/bin
FS=${BENCH_FS:-loop}
IMG=$DIR.ext4
cleanup() {
	for m in "$DIR"/mnt-*; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
	if [ -n "${GVOL:-}" ]; then
		gluster --mode=script volume stop "$GVOL" force >/dev/null 2>&1 || true
		gluster --mode=script volume delete "$GVOL" >/dev/null 2>&1 || true
	fi
	if [ "$FS" = loop ] && mountpoint -q "$DIR" 2>/dev/null; then
		umount "$DIR" && rm -f "$IMG"
	fi
}
trap cleanup EXIT
cleanup
rm -rf "$DIR"
mkdir -p "$DIR"
case $FS in
loop)
	rm -f "$IMG"
	truncate -s "${BENCH_FS_GIB:-24}G" "$IMG"
	mkfs.ext4 -q -F -I 512 "$IMG"
	mount -o loop "$IMG" "$DIR"
	echo "file system: a new ext4 with 512-byte inodes on a loop file ($IMG)"
	;;
dir) echo "file system: $(df -T "$DIR" | awk 'NR==2 {print $2 " at " $7}'), as it is" ;;
*) die "BENCH_FS=$FS: want loop or dir" ;;
esac
mkdir -p "$BIN"
go build -o "$BIN/afrkit" ./cmd/afrkit
go build -o "$BIN/loopback" github.com/hanwen/go-fuse/v2/example/loopback

# The inputs live in memory, so reading them costs no disk time.
SHM=$(mktemp -d /dev/shm/afrkit-bench.XXXXXX)
trap 'cleanup; rm -rf "$SHM"' EXIT
head -c $((SIZE << 20)) /dev/urandom >"$SHM/big"
tar -C "$(go env GOROOT)" -cf "$SHM/src.tar" src
python3 - "$SHM/small" <<'EOF'
import os, sys
os.makedirs(sys.argv[1])
data = os.urandom(4096)
for i in range(10000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "wb") as f:
        f.write(data)
EOF

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# run TARGET MOUNTPOINT: the five rows on MOUNTPOINT, appended to results.
run() {
	local name=$1 m=$2 t0 t1
	drop_caches
	t0=$(now); dd if="$SHM/big" of="$m/big" bs=1M conv=fsync status=none; t1=$(now)
	local write; write=$(echo "$SIZE * 1.048576 / ($t1 - $t0)" | bc -l)
	drop_caches
	t0=$(now); dd if="$m/big" of=/dev/null bs=1M status=none; t1=$(now)
	local read; read=$(echo "$SIZE * 1.048576 / ($t1 - $t0)" | bc -l)
	rm -f "$m/big"
	drop_caches
	t0=$(now); tar -C "$m" -xf "$SHM/src.tar"; t1=$(now)
	local untar; untar=$(secs "$t0" "$t1")
	drop_caches
	mkdir "$m/small"
	t0=$(now); cp "$SHM"/small/* "$m/small/"; t1=$(now)
	local small; small=$(secs "$t0" "$t1")
	drop_caches
	t0=$(now); find "$m" -printf '%s\n' >/dev/null; t1=$(now)
	local stat; stat=$(secs "$t0" "$t1")
	printf '%s %.1f %.1f %.2f %.2f %.2f\n' "$name" "$write" "$read" "$untar" "$small" "$stat" >>"$DIR/results"
}

: >"$DIR/results"
RSS=""
if [[ $SKIP != *" afrkit "* ]]; then
	export AFRKIT_STATE_DIR=$DIR/state
	mkdir -p "$DIR/mnt-afrkit"
	"$BIN/afrkit" volume create benchvol replica 3 "$DIR/ab1" "$DIR/ab2" "$DIR/ab3" >/dev/null
	"$BIN/afrkit" mount benchvol "$DIR/mnt-afrkit"
	run afrkit "$DIR/mnt-afrkit"
	pid=$(pgrep -f "afrkit.*mount --foreground.*benchvol" | head -1)
	RSS=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$pid/status")
	"$BIN/afrkit" umount "$DIR/mnt-afrkit"
	"$BIN/afrkit" heal benchvol info summary | grep -c "Total Number of entries: 0" | grep -qx 3 ||
		die "afrkit's heal info lists entries after the runs"
fi
if [[ $SKIP != *" gluster "* ]] && pgrep -x glusterd >/dev/null; then
	GVOL=afrkitbench$$
	host=$(hostname)
	gluster --mode=script volume create "$GVOL" replica 3 "$host:$DIR/gb1" "$host:$DIR/gb2" "$host:$DIR/gb3" force >/dev/null
	gluster --mode=script volume start "$GVOL" >/dev/null
	mkdir -p "$DIR/mnt-gluster"
	mount -t glusterfs "$host:/$GVOL" "$DIR/mnt-gluster"
	run gluster "$DIR/mnt-gluster"
	umount "$DIR/mnt-gluster"
fi
if [[ $SKIP != *" loopback "* ]]; then
	mkdir -p "$DIR/loop-src" "$DIR/mnt-loopback"
	"$BIN/loopback" "$DIR/mnt-loopback" "$DIR/loop-src" >/dev/null 2>&1 &
	for _ in $(seq 50); do mountpoint -q "$DIR/mnt-loopback" && break; sleep 0.1; done
	run loopback "$DIR/mnt-loopback"
	umount "$DIR/mnt-loopback"
fi
if [[ $SKIP != *" bare "* ]]; then
	mkdir -p "$DIR/bare"
	run bare "$DIR/bare"
fi

echo "target      write MB/s  read MB/s  untar s  10k small s  stat all s"
awk '{printf "%-10s %11s %10s %8s %12s %11s\n", $1, $2, $3, $4, $5, $6}' "$DIR/results"
[ -n "$RSS" ] && echo "afrkit mount peak RSS: $RSS"
awk '
	{ w[$1]=$2; r[$1]=$3; u[$1]=$4; s[$1]=$5; st[$1]=$6 }
	END {
		if ("afrkit" in w && "gluster" in w)
			printf "afrkit vs GlusterFS: write %.2fx, read %.2fx, untar %.1fx faster, small %.1fx faster, stat %.1fx faster\n",
				w["afrkit"]/w["gluster"], r["afrkit"]/r["gluster"], u["gluster"]/u["afrkit"], s["gluster"]/s["afrkit"], st["gluster"]/st["afrkit"]
		if ("afrkit" in w && "bare" in w)
			printf "afrkit write vs bare disk / 3: %.2f (target: at least 0.90)\n", w["afrkit"]/(w["bare"]/3)
		if ("afrkit" in w && "loopback" in w)
			printf "afrkit vs go-fuse loopback: write %.2fx, read %.2fx, untar %.2fx, small %.2fx, stat %.2fx (time ratios: loopback/afrkit)\n",
				w["afrkit"]/w["loopback"], r["afrkit"]/r["loopback"], u["loopback"]/u["afrkit"], s["loopback"]/s["afrkit"], st["loopback"]/st["afrkit"]
	}' "$DIR/results"
