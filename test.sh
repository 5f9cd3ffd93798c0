#!/bin/sh
# The whole test suite in one command: the packages the tests need
# (installed when run as root, named otherwise), the binaries they run
# (./build.sh --all), every test binary (a failing one does not stop the
# others), then the list of skipped tests and why.
#
#   ./test.sh              set up, build, test
#   ./test.sh --packages   only install (or name) the packages
#   ./test.sh -- ARGS      passes ARGS to cargo test (`-- --test dns`)
#
# CI=true: a skipped test fails the run (CI sets up everything).
# The Kubernetes API server tests take kube-apiserver and etcd from
# RDY_TEST_KUBE_BIN or KUBEBUILDER_ASSETS (what setup-envtest installs);
# without either, the binaries setup-envtest already installed are used
# when it is on PATH.
set -eu
cd "$(dirname "$0")"

packages_only=false
case "${1:-}" in
    --packages) packages_only=true ;;
    --) shift ;;
    "") ;;
    *) echo "usage: ./test.sh [--packages | -- CARGO-TEST-ARGS]" >&2; exit 2 ;;
esac

# Debian packages, and what each is for.
#   iproute2, util-linux: `ip`, unshare, setpriv (network and PID namespaces)
#   buildah: the scratch image (tests/image.rs, tests/release.rs)
#   gcc: ring's C; openssl: test certificates; curl: requests to the real
#   API server; dnsmasq, postgresql, mariadb-server, redis-server: the
#   protocol probes' servers (the tests start their own on loopback);
#   python3-pip: grpcio's health server (tests/grpc.rs);
#   the cross gccs, musl-dev:armhf and qemu-user-static: the aarch64 and
#   armv7 binaries (tests/foreign.rs)
apt_packages="iproute2 util-linux buildah gcc openssl curl dnsmasq postgresql
mariadb-server redis-server python3-pip gcc-aarch64-linux-gnu
gcc-arm-linux-gnueabihf qemu-user-static musl-dev:armhf"
pip_packages="grpcio grpcio-health-checking"

installed() {
    dpkg-query -W -f '${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

missing=""
for p in $apt_packages; do
    installed "$p" || missing="$missing $p"
done
python3 -c 'import grpc, grpc_health' 2>/dev/null || pip_missing=$pip_packages

if [ "$(id -u)" = 0 ]; then
    if [ -n "$missing" ]; then
        export DEBIAN_FRONTEND=noninteractive
        case "$missing" in
            *:armhf*) dpkg --add-architecture armhf ;;
        esac
        # A mirror in the middle of a sync fails one index now and then;
        # the install below still fails loudly if a package is missing.
        apt-get update -qq || echo "test.sh: some package indexes failed to update; going on"
        echo "test.sh: installing$missing"
        # shellcheck disable=SC2086
        apt-get install -y -qq $missing >/dev/null
    fi
    if [ -n "${pip_missing:-}" ]; then
        echo "test.sh: installing $pip_missing (pip)"
        # shellcheck disable=SC2086
        python3 -m pip install -q --disable-pip-version-check $pip_missing 2>/dev/null ||
            python3 -m pip install -q --disable-pip-version-check --break-system-packages \
                $pip_missing
    fi
else
    echo "test.sh: not root: the tests that need root (namespaces, chroot, raw ICMP) will be skipped"
    [ -z "$missing" ] || echo "test.sh: missing Debian packages (their tests will be skipped):$missing"
    [ -z "${pip_missing:-}" ] || echo "test.sh: missing Python packages: $pip_missing (pip install)"
fi
$packages_only && exit 0

# What the tests run: dist/rdy (tests/image.rs, ...) and, when the cross
# compilers are there, the foreign binaries (tests/foreign.rs, release.rs,
# which refuse binaries older than the sources).
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v arm-linux-gnueabihf-gcc >/dev/null; then
    ./build.sh --all
else
    echo "test.sh: no cross compilers: building dist/rdy only (tests/foreign.rs will skip)"
    ./build.sh
fi

# The real Kubernetes API server tests (tests/common/realkube.rs start one).
if [ -z "${RDY_TEST_KUBE_BIN:-}" ] && [ -z "${KUBEBUILDER_ASSETS:-}" ] &&
    command -v setup-envtest >/dev/null; then
    KUBEBUILDER_ASSETS=$(setup-envtest use -i -p path 2>/dev/null) && export KUBEBUILDER_ASSETS ||
        unset KUBEBUILDER_ASSETS
fi

# Tests that cannot run their real server record themselves here (one line:
# `test: why`); cargo prints `ok` for them, so the list closes the run.
skipped=${CARGO_TARGET_DIR:-target}/tmp/skipped-tests.txt
mkdir -p "${CARGO_TARGET_DIR:-target}/tmp"
: >"$skipped"
status=0
cargo test --locked --no-fail-fast "$@" || status=$?

count=$(wc -l <"$skipped" | tr -d ' ')
if [ "$count" = 0 ]; then
    echo "test.sh: 0 tests skipped"
else
    echo "test.sh: $count tests skipped (cargo printed \`ok\` for them):"
    sort "$skipped" | sed 's/^/  /'
    if [ "${CI:-}" = true ]; then
        echo "test.sh: CI=true and CI sets up every test: a skip is a failure" >&2
        [ "$status" != 0 ] || status=1
    fi
fi
[ "$status" = 0 ] && echo "test.sh: every test that ran passed" ||
    echo "test.sh: failed (the test binaries that failed are listed above)" >&2
exit "$status"
