#!/usr/bin/env bash
# FeedScope set-up for Debian 12: installs what the build needs, configures, builds, then
#   packaging/bootstrap.sh demo   opens the GUI on the embedded demo feed
#   packaging/bootstrap.sh test   runs every test (ctest) and exits non-zero on any failure
#   packaging/bootstrap.sh bench  runs the whole benchmark suite (tests/bench/run-all.sh, ~15 min)
# Re-running is cheap: packages already installed are skipped and the build is incremental.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
demo | test | bench | build) ;;
*)
    echo "usage: $0 demo|test|bench|build" >&2
    exit 2
    ;;
esac

packages=(
    cmake ninja-build g++ pkg-config clang-format
    qt6-base-dev qt6-websockets-dev qt6-charts-dev qt6-httpserver-dev libqt6opengl6-dev
    libgl-dev libegl-dev libvulkan-dev libxkbcommon-dev
    libsimdjson-dev zlib1g-dev
    dpkg-dev file desktop-file-utils appstream
)
# The tests also scrape the agent with a real Prometheus server and make TLS certificates; clang
# builds the fuzzers (tests/fuzz/run.sh).
[ "$mode" = test ] && packages+=(prometheus openssl clang libclang-rt-14-dev)
# The benchmark suite's peers: Node.js with ws, Python with websockets (its smoke runs in the tests).
[ "$mode" = test ] || [ "$mode" = bench ] && packages+=(node-ws python3-websockets)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "Installing: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${FEEDSCOPE_BUILD_DIR:-build}
# In CI (CI=true): warnings are errors, and the package test builds, installs and removes the .deb.
ci=OFF
[ "${CI:-}" = "true" ] && ci=ON
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDSCOPE_WERROR="$ci" \
    -DFEEDSCOPE_PACKAGE_TEST="$ci" >/dev/null
cmake --build "$build" --parallel "$(nproc)"

case "$mode" in
demo) exec "$build/app/feedscope" --demo ;;
test)
    cd "$build"
    exec ctest --output-on-failure --parallel "$(nproc)" --timeout 900
    ;;
bench) exec tests/bench/run-all.sh "$build" ;;
build) ;;
esac
