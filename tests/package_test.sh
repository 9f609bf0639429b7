#!/usr/bin/env bash
# Builds the .deb, validates its desktop integration, installs it with apt-get, runs the
# installed programs, then removes it. Needs root (CI); registered only with
# -DFEEDSCOPE_PACKAGE_TEST=ON, which packaging/bootstrap.sh sets when CI=true.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$build"
rm -f feedscope_*.deb
cpack -G DEB >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls feedscope_*_*.deb)
echo "built $deb"
# (Outputs are captured, not piped into grep -q: with pipefail, grep's early exit fails the pipe.)
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libqt6gui6* ]] || fail "Depends lacks libqt6gui6 (platform plugins): $depends"
[[ $depends == *libqt6websockets6* ]] || fail "Depends lacks libqt6websockets6 (shlibdeps): $depends"
desktop-file-validate packaging/io.feedscope.FeedScope.desktop || fail "desktop-file-validate"
appstreamcli validate --no-net packaging/io.feedscope.FeedScope.metainfo.xml || fail "appstreamcli validate"

dpkg -s feedscope >/dev/null 2>&1 && apt-get remove -y -qq feedscope >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
cleanup() {
    if dpkg -s feedscope >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq feedscope >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(command -v feedscope)" = /usr/bin/feedscope ] || fail "feedscope is not installed in /usr/bin"
version=$(/usr/bin/feedscope --version)
[ "$version" = "feedscope $(dpkg-deb -f "$build/$deb" Version)" ] || fail "feedscope --version printed '$version'"
simhelp=$(/usr/bin/feedscope-sim --help)
[[ $simhelp == *"Faults (--fault, repeatable)"* ]] || fail "feedscope-sim --help"
for f in /usr/share/applications/io.feedscope.FeedScope.desktop /usr/share/metainfo/io.feedscope.FeedScope.metainfo.xml \
    /usr/share/icons/hicolor/scalable/apps/io.feedscope.FeedScope.svg /usr/share/icons/hicolor/48x48/apps/io.feedscope.FeedScope.png \
    /usr/share/man/man1/feedscope.1.gz /usr/share/man/man1/feedscope-sim.1.gz /usr/share/feedscope/prometheus-alerts.yml; do
    [ -f "$f" ] || fail "$f is not installed"
done
man=$(zcat /usr/share/man/man1/feedscope.1.gz)
[[ $man == .TH\ FEEDSCOPE\ 1* ]] || fail "man page"

report="$work/report.json"
/usr/bin/feedscope --headless --demo --duration-s 3 --report "$report" 2>"$work/run.log" || { cat "$work/run.log"; fail "headless run"; }
grep -q '"schema": "feedscope.report/1"' "$report" || fail "report schema"
active=$(grep -c '"state": "active"' "$report" || true)
[ "$active" -ge 40 ] || fail "only $active active subscriptions and connections in the report"
grep -q '"messages": [1-9]' "$report" || fail "no messages counted"

DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq feedscope >/dev/null
[ ! -e /usr/bin/feedscope ] || fail "feedscope still installed after removal"
echo "package test passed: $deb installed, ran (version, demo report with $active active entries, sim help) and removed"
exit 0
