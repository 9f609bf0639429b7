#!/usr/bin/env bash
# The desktop window's memory over a long run: `feedscope --demo` (real window, offscreen or
# under Xvfb) with a fault every 20 s (kill all, flood 20 000 frames, malformed frames, server
# restart, kill one), RSS sampled every 10 s. Prints the samples and the growth after warm-up
# (the first minute: charts, inspector histories and the session ring fill up first).
#
#   tests/soak/gui-memory.sh [MINUTES] [BUILD_DIR]      (default 10 minutes, build/)
set -euo pipefail
minutes=${1:-10}
build=${2:-build}
exe="$build/app/feedscope"
[[ -x $exe ]] || { echo "gui-memory: $exe not built" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

total_ms=$((minutes * 60 * 1000))
faults=()
kinds=("abort:all" 'flood:{"type":"trades","coin":"BTC"}:20000' "malformed:all:notJson" "restart:1500"
       "abort:1" 'flood:{"type":"l2Book","coin":"ETH"}:5000')
i=0
for ((t = 20000; t < total_ms - 5000; t += 20000)); do
    faults+=(--demo-fault "$t:${kinds[i % ${#kinds[@]}]}")
    i=$((i + 1))
done

export XDG_CONFIG_HOME="$out/config" # a fresh profile: no saved settings change the run
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
"$exe" --demo "${faults[@]}" --screenshot "$out/end.png" --screenshot-delay-ms "$total_ms" \
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
# Growth after warm-up: the lowest sample of the second minute against the lowest of the last one.
first=$(printf '%s\n' "${samples[@]}" | awk -F: '$1 >= 60 && $1 < 120 {print $2}' | sort -n | head -1)
last=$(printf '%s\n' "${samples[@]}" | awk -F: -v e=$((minutes * 60 - 60)) '$1 >= e {print $2}' | sort -n | head -1)
if [[ -n $first && -n $last ]]; then
    awk -v a="$first" -v b="$last" 'BEGIN { printf "settled RSS %d KiB (minute 2) -> %d KiB (last minute): %+.1f %%\n", a, b, (b - a) * 100.0 / a }'
fi
