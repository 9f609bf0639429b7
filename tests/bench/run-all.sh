#!/usr/bin/env bash
# The whole benchmark suite (issue 7), one command: every measurement with its baselines from the
# same invocation, a table on stdout, one JSON line per scenario appended to the results file.
#   tests/bench/run-all.sh [BUILD_DIR] [RESULTS_FILE]    (default build/, BUILD_DIR/bench-results.jsonl)
# About 15 minutes on 2 cores. Needs node-ws and python3-websockets for the peers
# (packaging/bootstrap.sh bench installs them and runs this).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
results=${2:-$build/bench-results.jsonl}
cmake --build "$build" --target bench_feed feedscope-benchfeed bench_pool bench_gui bench_dispatch bench_codec
bench="$build/tests/bench"
echo "== 1, 2. ingest throughput and latency (FeedScope vs B0, B1, B2, Node ws, Python websockets)"
"$bench/bench_feed" --results "$results"
echo "== 3, 4, 5. idle CPU and wake-ups, memory per subscription, restore (unpaced and paced)"
"$bench/bench_pool" --results "$results"
echo "== 6. GUI event-loop lag"
"$bench/bench_gui" --results "$results"
echo "== 7. dispatcher under a slow consumer, per policy"
"$bench/bench_dispatch" --results "$results"
echo "== decode cost per frame"
"$bench/bench_codec"
echo "== 8. the gateway (issue 14): added latency, fan-out, scale, isolation"
cmake --build "$build" --target bench_gateway feedscope-gwpeer
"$bench/bench_gateway" --results "$results"
echo "== 8. the same with the links sharded over 2 threads (--gateway-threads 2)"
"$bench/bench_gateway" --threads 2 --results "$results"
echo "results appended to $results"
