#!/usr/bin/env bash
# bench/status.sh: `afrkit heal VOL status` on a brick whose heal index holds
# a million entries, against the bare listing of that index (ls -f | wc -l)
# in the same run: a look must cost a listing, not a read per entry.
#
#   sudo bench/status.sh            # 1,000,000 entries, 200,000 of them real
#   BENCH_ENTRIES=100000 BENCH_REAL=20000 bench/status.sh
#
# The real entries are handles whose counters blame the third brick (heal
# info lists them as pending); the rest name gfids no brick has (stale). It
# prints the time of each of three looks (the first classifies what it can in
# its budget and keeps it; the next ones go on from there) and of the
# listing, with the ratios. Needs root (trusted.* xattrs) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_ENTRIES:-1000000}
REAL=${BENCH_REAL:-200000}
DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/afrkit-status-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
export AFRKIT_STATE_DIR=$DIR/state
BIN=$DIR/afrkit
go build -o "$BIN" ./cmd/afrkit
"$BIN" volume create sbench replica 3 "$DIR/b1" "$DIR/b2" "$DIR/b3" >/dev/null

echo "making $N index entries on b1 ($REAL of them files blaming b3)..."
python3 - "$DIR/b1" "$N" "$REAL" <<'EOF'
import errno, os, sys, uuid
brick, n, real = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ix = os.path.join(brick, ".glusterfs", "indices", "xattrop")
def new_base():
    b = os.path.join(ix, "xattrop-" + str(uuid.uuid4()))
    open(b, "w").close()
    return b
base = new_base()
blame = (1).to_bytes(4, "big") + bytes(8)
for i in range(n):
    g = uuid.uuid4()
    if i < real:
        d = os.path.join(brick, ".glusterfs", g.hex[0:2], g.hex[2:4])
        os.makedirs(d, 0o700, exist_ok=True)
        h = os.path.join(d, str(g))
        with open(h, "w") as f:
            f.write("x")
        os.setxattr(h, "trusted.gfid", g.bytes)
        os.setxattr(h, "trusted.afr.sbench-client-2", blame)
    while True:
        try:
            os.link(base, os.path.join(ix, str(g)))
            break
        except OSError as e:
            if e.errno != errno.EMLINK:
                raise
            base = new_base()
EOF
sync

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
t0=$(now); listed=$(ls -f "$DIR/b1/.glusterfs/indices/xattrop" | wc -l); t1=$(now)
list=$(secs "$t0" "$t1")
printf 'listing of the index (ls -f | wc -l, %d names): %.2f s\n' "$listed" "$list"
for look in 1 2 3; do
	t0=$(now); "$BIN" heal sbench status >"$DIR/out.$look"; t1=$(now)
	s=$(secs "$t0" "$t1")
	printf 'heal status, look %d: %.2f s (%.1fx the listing): %s\n' "$look" "$s" "$(echo "$s / $list" | bc -l)" \
		"$(grep '^pending:' "$DIR/out.$look")"
done
/usr/bin/time -f 'peak RSS of a look: %M KiB' "$BIN" heal sbench status >/dev/null
# Then look after look until every entry is classified (each look learns
# what its budget allows), and time the look of a backlog known whole: the
# kept state is read and written in full.
for look in $(seq 4 400); do
	"$BIN" heal sbench status >"$DIR/out"
	grep -q 'not classified yet' "$DIR/out" || break
done
t0=$(now); "$BIN" heal sbench status >"$DIR/out"; t1=$(now)
s=$(secs "$t0" "$t1")
printf 'heal status, after %d looks classified everything: %.2f s (%.1fx the listing): %s\n' "$look" "$s" "$(echo "$s / $list" | bc -l)" \
	"$(grep '^pending:' "$DIR/out")"
