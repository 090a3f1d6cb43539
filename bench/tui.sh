#!/usr/bin/env bash
# bench/tui.sh: `afrkit tui VOL` on a volume whose index lists 100,000
# entries, in a real terminal (tmux): the time to its first screen of
# entries, the time until the whole list is in, and the TUI's peak memory
# (then, once fsck's crawl for stale temp files is done, again);
# against `afrkit heal VOL info` over the same bricks in the same run.
#
#   sudo bench/tui.sh                       # 100,000 entries
#   BENCH_FILES=1000000 bench/tui.sh
#
# Needs root (trusted.* xattrs) and tmux. BENCH_DIR (default
# /var/tmp/afrkit-tui-bench) holds the volume, reused across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/afrkit-tui-bench}
BENCH_FILES=${BENCH_FILES:-100000}
BIN=$BENCH_DIR/bin
mkdir -p "$BIN"
go build -o "$BIN/afrkit" ./cmd/afrkit
go build -o "$BIN/healinfo" ./bench/healinfo
VOL=tui$BENCH_FILES
"$BIN/healinfo" -dir "$BENCH_DIR" -name "$VOL" -n "$BENCH_FILES" -dirs 100 >/dev/null
export AFRKIT_STATE_DIR=$BENCH_DIR/state

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc | awk '{printf "%.2f", $1}'; }

sync; echo 3 >/proc/sys/vm/drop_caches
t0=$(now)
"$BIN/afrkit" heal "$VOL" info >/dev/null
t1=$(now)
INFO=$(secs "$t0" "$t1")

sync; echo 3 >/proc/sys/vm/drop_caches
S=afrkit-tui-bench-$$
t0=$(now)
tmux new-session -d -s "$S" -x 120 -y 40 env NO_COLOR=1 AFRKIT_STATE_DIR="$AFRKIT_STATE_DIR" "$BIN/afrkit" tui "$VOL"
trap 'tmux kill-session -t "$S" 2>/dev/null || true' EXIT
until tmux capture-pane -p -t "$S" | grep -q '^> '; do sleep 0.01; done
t1=$(now)
FIRST=$(secs "$t0" "$t1")
until ! tmux capture-pane -p -t "$S" | grep -q 'listing…'; do sleep 0.05; done
t2=$(now)
ALL=$(secs "$t0" "$t2")
pid=$(pgrep -f "^$BIN/afrkit tui $VOL" | head -1)
RSS=$(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")
SHOWN=$(tmux capture-pane -p -t "$S" | sed -n 2p)
# Then fsck's crawl for stale temp files, which walks the whole volume.
until ! tmux capture-pane -p -t "$S" | grep -q 'crawling the bricks…'; do sleep 0.2; done
t3=$(now)
CRAWL=$(secs "$t0" "$t3")
RSS_ALL=$(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status")
tmux send-keys -t "$S" q

echo "afrkit tui $VOL ($BENCH_FILES files, $(nproc) CPUs, cold page cache):"
echo "  first screen of entries:   $FIRST s"
echo "  whole list in:             $ALL s   ($SHOWN)"
echo "  peak RSS:                  $RSS"
echo "  stale temp crawl done:     $CRAWL s   (peak RSS by then: $RSS_ALL)"
echo "  afrkit heal $VOL info:     $INFO s   (the same listing, printed; ratio whole list / heal info: $(awk -v a="$ALL" -v b="$INFO" 'BEGIN { printf "%.2fx", a / b }'))"
