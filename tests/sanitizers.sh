#!/usr/bin/env bash
# Sanitizer runs (issue 8), after packaging/bootstrap.sh has installed the build's packages:
#   the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), and
#   the test whose threads share memory through our own locks and atomics (the dispatcher's
#   workers and queues) under ThreadSanitizer (build-tsan) with tests/tsan.supp (Qt internals
#   only, each with its reason). Any report fails.
#   Not under TSan: the tests whose threads meet through Qt's queued connections (registry, pool,
#   engine, metrics, window). Debian's QtCore is not instrumented, so every queued hand-off is
#   reported; silencing that would mean suppressing QCoreApplicationPrivate::sendPostedEvents,
#   which sits under every slot a queued call runs and would hide real races too.
#   tests/sanitizers.sh [address|thread]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
jobs=$(nproc)
# -O1 -g1 (line tables): what the sanitizers need for speed and for file:line in their reports, and
# 40 % less compile time than RelWithDebInfo's -O2 -g (a gateway test: 86 s → 49 s under ASan).
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

if [ "$which" = both ] || [ "$which" = address ]; then
    cmake -S . -B build-asan -G Ninja "${flags[@]}" -DFEEDSCOPE_SANITIZE=address \
        -DFEEDSCOPE_WERROR=ON >/dev/null
    cmake --build build-asan --parallel "$jobs"
    # The package test installs the (unsanitized) .deb: it belongs to the normal run only. Two at a
    # time, as the normal run; the soak and the benchmarks' smokes (timing-heavy) after, alone.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    (cd build-asan && ctest --output-on-failure --timeout 900 --parallel "$jobs" \
        -E 'package_deb|bench_gui_smoke|^bench_|^soak_')
    (cd build-asan && ctest --output-on-failure --timeout 900 -R '^bench_|^soak_' -E 'bench_gui_smoke')
fi

if [ "$which" = both ] || [ "$which" = thread ]; then
    tsan_tests=(tst_dispatcher)
    cmake -S . -B build-tsan -G Ninja "${flags[@]}" -DFEEDSCOPE_SANITIZE=thread \
        -DFEEDSCOPE_WERROR=ON >/dev/null
    cmake --build build-tsan --parallel "$jobs" --target "${tsan_tests[@]}"
    regex=$(IFS='|'; echo "^(${tsan_tests[*]})\$")
    (cd build-tsan && QT_NO_GLIB=1 TSAN_OPTIONS="suppressions=$PWD/../tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1" \
        ctest --output-on-failure --timeout 900 -R "$regex")
fi
