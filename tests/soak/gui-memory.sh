#!/usr/bin/env bash
# The desktop window's memory over a long run: `feedscope --demo` (real window, offscreen or
# under Xvfb) with a fault every 20 s (kill all, flood 20 000 frames, malformed frames, server
# restart, kill one), RSS sampled every 10 s. Prints the samples and the growth after warm-up
# (the first minute: charts, inspector histories and the session ring fill up first).
#
#   tests/soak/gui-memory.sh [MINUTES] [BUILD_DIR] [FAULT_EVERY_S]   (default 10 min, build/, 20 s)
# Every store the window keeps is bounded (session events, reconnect records, inspector history,
# chart windows); with faults every few seconds they fill within minutes and the RSS must then stay
# flat (the growth printed compares minute 2 with the last minute, or WARMUP_MIN with it).
# FEEDSCOPE_ARGS adds options, e.g. "--profile small-stores.json" to fill the stores sooner.
set -euo pipefail
minutes=${1:-10}
build=${2:-build}
every_ms=$((${3:-20} * 1000))
warmup_s=$((${WARMUP_MIN:-1} * 60))
exe="$build/app/feedscope"
[[ -x $exe ]] || { echo "gui-memory: $exe not built" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

total_ms=$((minutes * 60 * 1000))
faults=()
kinds=("abort:all" 'flood:{"type":"trades","coin":"BTC"}:20000' "malformed:all:notJson" "restart:1500"
       "abort:1" 'flood:{"type":"l2Book","coin":"ETH"}:5000')
i=0
for ((t = every_ms; t < total_ms - 5000; t += every_ms)); do
    faults+=(--demo-fault "$t:${kinds[i % ${#kinds[@]}]}")
    i=$((i + 1))
done

export XDG_CONFIG_HOME="$out/config" # a fresh profile: no saved settings change the run
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
"$exe" --demo ${FEEDSCOPE_ARGS:-} "${faults[@]}" --screenshot "$out/end.png" --screenshot-delay-ms "$total_ms" \
    >"$out/stdout" 2>"$out/stderr" &
pid=$!
echo "feedscope --demo (pid $pid) for $minutes min, $((${#faults[@]} / 2)) faults"
printf '%8s %10s %8s %6s\n' "t(s)" "RSS(KiB)" "threads" "fds"
samples=()
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    [[ -r /proc/$pid/status ]] || break
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    thr=$(awk '/^Threads/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    [[ -n $rss ]] || break
    now=$(($(date +%s) - start))
    printf '%8d %10d %8d %6d\n' "$now" "$rss" "$thr" "$fds"
    samples+=("$now:$rss")
done
wait "$pid" || { echo "gui-memory: feedscope exited with $?" >&2; cat "$out/stderr" >&2; exit 1; }
# Growth after warm-up: the lowest sample of the minute after it against the lowest of the last one.
first=$(printf '%s\n' "${samples[@]}" | awk -F: -v w="$warmup_s" '$1 >= w && $1 < w + 60 {print $2}' | sort -n | head -1)
last=$(printf '%s\n' "${samples[@]}" | awk -F: -v e=$((minutes * 60 - 60)) '$1 >= e {print $2}' | sort -n | head -1)
if [[ -n $first && -n $last ]]; then
    awk -v a="$first" -v b="$last" -v m=$((warmup_s / 60 + 1)) 'BEGIN { printf "settled RSS %d KiB (minute %d) -> %d KiB (last minute): %+.1f %%\n", a, m, b, (b - a) * 100.0 / a }'
fi
