#!/usr/bin/env bash
# compare.sh: afrkit compare against rsync's checksum dry run on the same
# two trees, in one run. BENCH_FILES files (sizes from a few bytes to
# BENCH_MAXKB KiB, 1000 to a directory, BENCH_DEPTH levels deep) are
# written under master/, copied to slave/ with cp -a, and the slave then
# damaged as a geo-replica's operator found it: some files renamed to
# rsync temp names, some changed, some removed.
#   - baseline: rsync -nac --delete master/ slave/ (reads and checksums
#     every file on both sides, as afrkit compare does for files of equal
#     size);
#   - afrkit compare master slave (text output), --jobs BENCH_JOBS.
# Each runs BENCH_REPEAT times, alternating, with the page cache dropped
# before each run (cold) and, in a second table, warm. Prints the medians
# and rsync/afrkit: above 1 means afrkit is faster. Also checks that afrkit
# finds every planted difference.
#
#   BENCH_DIR=/var/tmp/afrkit-compare BENCH_FILES=100000 bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-compare}
BENCH_FILES=${BENCH_FILES:-100000}
BENCH_MAXKB=${BENCH_MAXKB:-64}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_JOBS=${BENCH_JOBS:-4}
BIN=$BENCH_DIR/bin

log() { echo "compare.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v rsync >/dev/null || die "rsync is missing (apt-get install rsync)"
rm -rf "$BENCH_DIR"
mkdir -p "$BIN"
trap 'rm -rf "$BENCH_DIR"' EXIT
go build -o "$BIN/afrkit" ./cmd/afrkit

log "writing $BENCH_FILES files"
python3 - "$BENCH_DIR/master" "$BENCH_FILES" "$BENCH_MAXKB" <<'PY'
import os, random, sys
root, n, maxkb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(42)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000 % 100), "e%02d" % (i // 100000))
    os.makedirs(d, exist_ok=True)
    size = int(random.paretovariate(1.2) * 200) % (maxkb * 1024)
    with open(os.path.join(d, "f%06d.dat" % i), "wb") as f:
        f.write(os.urandom(size))
PY
cp -a "$BENCH_DIR/master" "$BENCH_DIR/slave"
# The damage: every 997th file under a temp name, every 1009th changed in
# place (its first byte flipped: same size), every 1013th gone.
planted=$(python3 - "$BENCH_DIR/slave" <<'PY'
import os, sys
planted = 0
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        n = int(f[1:7])
        p = os.path.join(d, f)
        if n % 997 == 0:
            os.rename(p, os.path.join(d, "." + f + ".Ab3dE9")); planted += 1
        elif n % 1009 == 0 and os.path.getsize(p) > 0:
            with open(p, "r+b") as fh:
                b = fh.read(1); fh.seek(0); fh.write(bytes([b[0] ^ 0xFF]))
            planted += 1
        elif n % 1013 == 0:
            os.remove(p); planted += 1
print(planted)
PY
)
log "planted $planted differences; $(du -sh "$BENCH_DIR/master" | cut -f1) per side"

found=$("$BIN/afrkit" --state-dir "$BENCH_DIR/state" compare "$BENCH_DIR/master" "$BENCH_DIR/slave" --jobs "$BENCH_JOBS" | grep -c -E '^(temp name|differs|only on the master):' || true)
[ "$found" -eq "$planted" ] || die "afrkit compare found $found differences, $planted were planted"

secs() {
  local tf
  tf=$(mktemp)
  /usr/bin/time -f '%e' -o "$tf" "$@" >/dev/null 2>&1 || true
  tail -1 "$tf"
  rm -f "$tf"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

echo "afrkit compare vs rsync -nac --delete: $BENCH_FILES files, $(du -sh "$BENCH_DIR/master" | cut -f1) per side, $planted differences; median of $BENCH_REPEAT; $(nproc) CPUs"
printf '%6s %10s %10s %14s\n' cache "rsync s" "afrkit s" "rsync/afrkit"
for cache in cold warm; do
  rs=() as=()
  for i in $(seq "$BENCH_REPEAT"); do
    [ "$cache" = cold ] && drop
    rs+=("$(secs rsync -nac --delete "$BENCH_DIR/master/" "$BENCH_DIR/slave/")")
    [ "$cache" = cold ] && drop
    as+=("$(secs "$BIN/afrkit" --state-dir "$BENCH_DIR/state" compare "$BENCH_DIR/master" "$BENCH_DIR/slave" --jobs "$BENCH_JOBS")")
  done
  r=$(printf '%s\n' "${rs[@]}" | median)
  a=$(printf '%s\n' "${as[@]}" | median)
  printf '%6s %10s %10s %13sx\n' "$cache" "$r" "$a" "$(awk -v r="$r" -v a="$a" 'BEGIN {printf "%.2f", r/a}')"
done
