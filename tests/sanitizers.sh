#!/usr/bin/env bash
# Sanitizer runs (issue 8), after packaging/bootstrap.sh has installed the build's packages:
#   the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), and
#   the threaded pipeline tests (pool on I/O threads, dispatcher workers, engine, UI snapshots,
#   metrics) under ThreadSanitizer (build-tsan) with tests/tsan.supp (Qt internals only, each
#   suppression with its reason). Any report fails the run.
#   tests/sanitizers.sh [address|thread]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
jobs=$(nproc)

if [ "$which" = both ] || [ "$which" = address ]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDSCOPE_SANITIZE=address \
        -DFEEDSCOPE_WERROR=ON >/dev/null
    cmake --build build-asan --parallel "$jobs"
    # The package test installs the (unsanitized) .deb: it belongs to the normal run only.
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure --timeout 900 -E 'package_deb|bench_gui_smoke')
fi

if [ "$which" = both ] || [ "$which" = thread ]; then
    tsan_tests=(tst_dispatcher tst_pool tst_engine tst_metrics tst_mainwindow tst_registry)
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDSCOPE_SANITIZE=thread \
        -DFEEDSCOPE_WERROR=ON >/dev/null
    cmake --build build-tsan --parallel "$jobs" --target "${tsan_tests[@]}"
    regex=$(IFS='|'; echo "^(${tsan_tests[*]})\$")
    (cd build-tsan && TSAN_OPTIONS="suppressions=$PWD/../tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1" \
        ctest --output-on-failure --timeout 900 -R "$regex")
fi
