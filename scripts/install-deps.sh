#!/bin/sh
# Installs the Debian 12 packages wardpulse needs.
#   install-deps.sh           to build and run the demo
#   install-deps.sh --tests   also what the tests need (make check): the JSON Schema test
#                             suite and checker, openssl for throw-away certificates,
#                             dpkg-dev/file for the package test, lintian and man-db to
#                             check the packages and their man pages, systemd for unit checks,
#                             chromium to render `wardpulse report`'s HTML, faketime to
#                             set the aggregator's clock back and forth (test_time_edges),
#                             chromium-driver and python3-selenium to drive the live page
#                             in a real browser (test_dashboard, bench/dashboard.py),
#                             libnss3-tools (certutil) to make that browser trust a test CA
#                             (nginx is not installed: test_dashboard runs the shipped
#                             nginx-wardpulse.conf when nginx is there, else a stand-in)
# Both: npm, which the build runs once (`npm ci` of web/package-lock.json) to make the live
# page; a node.js that brings its own npm (e.g. NodeSource's) does as well.
# As root: installs what is missing with apt-get. Otherwise: prints the command and fails.
set -eu

PACKAGES="cmake make gcc pkg-config
libmosquitto-dev mosquitto mosquitto-clients
libsqlite3-dev sqlite3 libcjson-dev
python3 python3-paho-mqtt"
if [ "${1:-}" = "--tests" ]; then
    PACKAGES="$PACKAGES openssl python3-jsonschema json-schema-test-suite
dpkg-dev file lintian man-db systemd chromium faketime chromium-driver python3-selenium
libnss3-tools"
fi
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "wardpulse needs these Debian packages:$missing" >&2
    echo "install them with:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The broker package starts its own service where systemd runs; wardpulse's tests and
# demo start their own brokers on free ports and do not need it.
apt-get install -y -qq --no-install-recommends $missing
