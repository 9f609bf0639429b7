#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 60).
#   tests/fuzz/run.sh [SECONDS]          e.g. tests/fuzz/run.sh 3600 for a long run
# Corpora grow in build-fuzz/corpus/<target> (seeded from tests/data/hyperliquid and
# tests/fuzz/seeds); a crash leaves crash-* files there and fails the script. Each crash found
# becomes a regression test in tests/ (see tst_Codec::fuzzRegressions). A fixed -seed keeps CI
# repeatable; FEEDSCOPE_FUZZ_SEED=0 draws a new one.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${FEEDSCOPE_FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFEEDSCOPE_SANITIZE=fuzzer -DFEEDSCOPE_PACKAGE_TEST=OFF >/dev/null
targets=(fuzz_frame fuzz_subscriptions fuzz_profile fuzz_session)
targets+=(fuzz_wsframe fuzz_live fuzz_gatewayrequest)
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"
status=0
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t"
    mkdir -p "$corpus"
    case "$t" in
    fuzz_frame)
        # one frame per file: the fixtures' JSON files and every line of the JSONL ones
        for f in tests/data/hyperliquid/*.json; do cp "$f" "$corpus/"; done
        for f in tests/data/hyperliquid/*.jsonl; do
            n=0
            while IFS= read -r line; do
                n=$((n + 1))
                printf '%s' "$line" >"$corpus/$(basename "$f").$n"
            done <"$f"
        done
        ;;
    *) cp tests/fuzz/seeds/"${t#fuzz_}"/* "$corpus/" ;;
    esac
    echo "== $t: ${seconds}s"
    if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=0 "./tests/fuzz/$t" -seed="${FEEDSCOPE_FUZZ_SEED:-1}" -max_total_time="$seconds" \
        -rss_limit_mb=4096 -print_final_stats=1 "corpus/$t" 2>&1 | tail -15); then
        status=1
    fi
    if ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* >/dev/null 2>&1; then
        echo "fuzz: $t found a problem: $(ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* 2>/dev/null)" >&2
        status=1
    fi
done
exit $status
