#!/usr/bin/env bash
# The desktop window's memory over a long run: `feedscope --demo` (real window, offscreen or
# under Xvfb), optionally with a fault every few seconds (kill all, flood 20 000 frames, malformed
# frames, server restart, kill one), RSS sampled every 10 s. Prints the samples, the lowest RSS of
# every minute and the growth over the minutes after the warm-up.
#
#   tests/soak/gui-memory.sh [MINUTES] [BUILD_DIR] [FAULT_EVERY_S]   (default 15 min, build/, no faults)
# Every store the window keeps is bounded in size and, except the session events, in age: charts,
# inspector history and statistics snapshots cover the last 5 minutes, so after WARMUP_MIN
# (default 5) the RSS must stay flat. The growth printed compares the lowest RSS of the first
# minute after the warm-up with that of the last minute (minutes 5 and 14 by default). Faults add
# session events, which stay until their ring (10 000) is full. FEEDSCOPE_ARGS adds options,
# e.g. "--profile small.json".
set -euo pipefail
minutes=${1:-15}
build=${2:-build}
every_ms=$((${3:-0} * 1000))
warmup_s=$((${WARMUP_MIN:-5} * 60))
exe="$build/app/feedscope"
[[ -x $exe ]] || { echo "gui-memory: $exe not built" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

total_ms=$((minutes * 60 * 1000))
faults=()
kinds=("abort:all" 'flood:{"type":"trades","coin":"BTC"}:20000' "malformed:all:notJson" "restart:1500"
       "abort:1" 'flood:{"type":"l2Book","coin":"ETH"}:5000')
i=0
for ((t = every_ms; every_ms > 0 && t < total_ms - 5000; t += every_ms)); do
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
# The lowest sample of every minute (the RSS between bursts), in MiB.
printf '%s\n' "${samples[@]}" | awk -F: '{m = int($1 / 60); if (!(m in lo) || $2 < lo[m]) lo[m] = $2; if (m > n) n = m}
    END {printf "lowest RSS per minute (MiB):"; for (i = 0; i <= n; i++) if (i in lo) printf " %d:%.1f", i, lo[i] / 1024; print ""}'
# Growth after warm-up: the lowest sample of the minute after it against the lowest of the last one.
first=$(printf '%s\n' "${samples[@]}" | awk -F: -v w="$warmup_s" '$1 >= w && $1 < w + 60 {print $2}' | sort -n | head -1)
last=$(printf '%s\n' "${samples[@]}" | awk -F: -v e=$((minutes * 60 - 60)) '$1 >= e {print $2}' | sort -n | head -1)
if [[ -n $first && -n $last ]]; then
    awk -v a="$first" -v b="$last" -v m=$((warmup_s / 60)) -v n=$((minutes - 1)) 'BEGIN {
        printf "after warm-up: %.1f MiB (minute %d) -> %.1f MiB (minute %d): %+.1f MiB, %+.2f MiB/min, %+.1f %%\n",
            a / 1024, m, b / 1024, n, (b - a) / 1024, (b - a) / 1024 / (n - m > 0 ? n - m : 1), (b - a) * 100.0 / a }'
fi
