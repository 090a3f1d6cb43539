#!/usr/bin/env bash
# deep.sh: how `afrkit heal` and `heal full` scale with depth. For each depth
# in BENCH_DEPTHS, bench/healgen -mode deep builds a replica-2 volume with a
# chain of that many nested directories, each holding one small file, all
# made while b1 was down. Times, warm cache (the chain is small: depth is
# the variable), the median of BENCH_REPEAT runs on fresh copies of it:
#   - `afrkit heal hb` (index heal) and `afrkit heal hb full`;
#   - as the baseline, `cp -a` of b0's chain into a fresh directory on the
#     same filesystem (fts walks with descriptors: linear in depth).
# Prints the time per level and the heal/cp ratio at each depth: a cost
# linear in depth keeps both flat as the depth grows. Needs root (trusted
# xattrs).
#
#   BENCH_DIR=/var/tmp/afrkit-deep BENCH_DEPTHS="200 600 2000" bench/deep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-deep}
BENCH_DEPTHS=${BENCH_DEPTHS:-200 600 2000}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BIN=$BENCH_DIR/bin

log() { echo "deep.sh: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (trusted xattrs)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
rm -rf "$BENCH_DIR"
mkdir -p "$BIN"
trap 'rm -rf "$BENCH_DIR"' EXIT
go build -o "$BIN/afrkit" ./cmd/afrkit
go build -o "$BIN/healgen" ./bench/healgen

# secs CMD...: prints the seconds CMD took (stdout discarded).
secs() {
  local tf
  tf=$(mktemp)
  /usr/bin/time -f '%e' -o "$tf" "$@" >/dev/null || { cat "$tf" >&2; die "$* failed"; }
  tail -1 "$tf"
  rm -f "$tf"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
per_level() { awk -v t="$1" -v d="$2" 'BEGIN {printf "%.2f", t*1000/d}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a/b}'; }

echo "afrkit heal over a chain of directories (each with a file) missed by b1; warm cache, median of $BENCH_REPEAT; $(nproc) CPUs"
printf '%6s %8s %9s %10s %9s %10s %8s %9s %9s\n' depth "cp -a s" "cp ms/lv" "heal s" "ms/level" "full s" "ms/level" "heal/cp" "full/cp"
for d in $BENCH_DEPTHS; do
  gen=$BENCH_DIR/gen$d
  "$BIN/healgen" -mode deep -depth "$d" -dir "$gen" >/dev/null
  cs=() hs=() fs=()
  for i in $(seq "$BENCH_REPEAT"); do
    rm -rf "$BENCH_DIR/cp"
    cs+=("$(secs cp -a "$gen/b0" "$BENCH_DIR/cp")")
    for mode in heal full; do
      run=$BENCH_DIR/run
      rm -rf "$run"
      cp -a "$gen" "$run"
      find "$run/state" -type f -exec sed -i "s#$gen/#$run/#g" {} +
      if [ "$mode" = heal ]; then
        hs+=("$(secs "$BIN/afrkit" --state-dir "$run/state" heal hb)")
      else
        fs+=("$(secs "$BIN/afrkit" --state-dir "$run/state" heal hb full)")
      fi
      out=$("$BIN/afrkit" --state-dir "$run/state" heal hb info summary)
      grep -q "Total Number of entries: 0" <<<"$out" || die "depth $d, $mode: not healed:\n$out"
    done
  done
  c=$(printf '%s\n' "${cs[@]}" | median)
  h=$(printf '%s\n' "${hs[@]}" | median)
  f=$(printf '%s\n' "${fs[@]}" | median)
  printf '%6s %8s %9s %10s %9s %10s %8s %9s %9s\n' "$d" "$c" "$(per_level "$c" "$d")" "$h" "$(per_level "$h" "$d")" "$f" "$(per_level "$f" "$d")" "$(ratio "$h" "$c")" "$(ratio "$f" "$c")"
  rm -rf "$gen" "$BENCH_DIR/run" "$BENCH_DIR/cp"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
