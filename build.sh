#!/bin/sh
# Static release build of rdy for a FROM scratch image.
#
#   ./build.sh        stable toolchain  -> dist/rdy
#   ./build.sh --min  also nightly build-std, size-optimised -> dist/rdy-min
#
# Prints each binary's stripped size in bytes.
set -eu
cd "$(dirname "$0")"

min=false
case "${1-}" in
    "") ;;
    --min) min=true ;;
    *) echo "usage: ./build.sh [--min]" >&2; exit 2 ;;
esac

arch=$(uname -m)
target="$arch-unknown-linux-musl"
host=$(rustc -vV | sed -n 's/^host: //p')

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

# ring compiles a little C and assembly. cc-rs looks for "$arch-linux-musl-gcc"
# when cross-compiling to musl; ring's C is freestanding (no libc headers), so
# the host gcc builds it correctly and no musl-tools package is needed.
export "CC_${arch}_unknown_linux_musl=${CC:-gcc}"

# Non-PIE like Go's static binaries: static-pie carries ~57 KiB of relocations.
# No unwind tables for rdy's own crates: with panic=abort nothing unwinds
# (~30 KiB). rust-lld with identical code folding saves another ~17 KiB when
# the toolchain ships it (rustup toolchains do, under lib/rustlib/HOST/bin).
link_flags() {
    gcc_ld="$(rustc $1 --print sysroot)/lib/rustlib/$host/bin/gcc-ld"
    flags="-C relocation-model=static -C target-feature=+crt-static -C force-unwind-tables=no"
    if [ -x "$gcc_ld/ld.lld" ]; then
        flags="$flags -C link-arg=-fuse-ld=lld -C link-arg=-B$gcc_ld -C link-arg=-Wl,--icf=all"
    fi
    echo "$flags"
}

size_of() {
    printf '%s: %s bytes (static, stripped)\n' "$1" "$(wc -c < "$1" | tr -d ' ')"
}

mkdir -p dist
RUSTFLAGS="$(link_flags "")" cargo build --release --locked \
    --target "$target" --target-dir target/static
cp "target/static/$target/release/rdy" dist/rdy
size_of dist/rdy

if $min; then
    if ! cargo +nightly --version >/dev/null 2>&1; then
        echo "build.sh --min: no nightly toolchain; skipped (rustup toolchain install nightly)" >&2
        exit 0
    fi
    if ! rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
        rustup component add --toolchain nightly rust-src
    fi
    if ! rustup target list --toolchain nightly --installed | grep -qx "$target"; then
        rustup target add --toolchain nightly "$target"
    fi
    # panic=immediate-abort drops the panic machinery (and std's backtrace
    # symboliser); location-detail=none drops file:line strings. Never
    # -Zfmt-debug=none: dependencies parse HTTP with Debug-formatted values.
    RUSTFLAGS="$(link_flags +nightly) -Zlocation-detail=none \
-Zunstable-options -Cpanic=immediate-abort" \
        cargo +nightly build --release --locked --target "$target" --target-dir target/min \
        -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
    cp "target/min/$target/release/rdy" dist/rdy-min
    size_of dist/rdy-min
fi
