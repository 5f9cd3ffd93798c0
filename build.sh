#!/bin/sh
# Static release build of rdy for a FROM scratch image.
#
#   ./build.sh            stable toolchain  -> dist/rdy
#   ./build.sh --min      also nightly, panic=immediate-abort -> dist/rdy-min
#   ./build.sh --symbols  the same builds with their symbol tables kept
#                         (dist/rdy-symbols, dist/rdy-min-symbols): identical
#                         code and symbol names, for profilers and bench/layout.py
#   ./build.sh --target aarch64|armv7|x86_64
#                         cross-compile for that architecture -> dist/rdy-aarch64,
#                         dist/rdy-armv7 (dist/rdy-aarch64-min ... with --min);
#                         the machine's own architecture is dist/rdy
#   ./build.sh --all      every architecture, one after the other
#
# Prints each binary's size in bytes against its limit in size-budget and
# fails when one is over.
set -eu
cd "$(dirname "$0")"

min=false
symbols=false
arch=$(uname -m)
all=false
usage="usage: ./build.sh [--min] [--symbols] [--target aarch64|armv7|x86_64 | --all]"
while [ $# -gt 0 ]; do
    case "$1" in
        --min) min=true ;;
        --symbols) symbols=true ;;
        --all) all=true ;;
        --target)
            case "${2:-}" in
                aarch64|armv7|x86_64) arch=$2; shift ;;
                *) echo "build.sh: --target: invalid value \"${2:-}\"; expected aarch64, armv7 or x86_64" >&2; exit 2 ;;
            esac ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
done
flags=""
$min && flags="$flags --min"
$symbols && flags="$flags --symbols"
if $all; then
    for each in x86_64 aarch64 armv7; do
        # shellcheck disable=SC2086
        "$0" $flags --target "$each"
    done
    exit 0
fi

# --- cross-compilation (issue 14) ---
# The Rust triple, the C compiler for ring's C and assembly, and the linker
# driver for each architecture. A foreign binary is named for its
# architecture; the machine's own is dist/rdy. The layout/*.order files are
# symbol orders profiled on x86_64 (bench/layout.py runs the binary under
# valgrind, which does not run foreign code): they are linked in for x86_64
# only, via the variant name (layout/rdy-aarch64.order does not exist).
host=$(rustc -vV | sed -n 's/^host: //p')
name=rdy
cc="${CC:-gcc}"
case "$arch" in
    aarch64) target=aarch64-unknown-linux-musl cross=aarch64-linux-gnu-gcc ;;
    armv7) target=armv7-unknown-linux-musleabihf cross=arm-linux-gnueabihf-gcc ;;
    *) target="$arch-unknown-linux-musl" cross="" ;;
esac
if [ "$arch" != "$(uname -m)" ]; then
    name="rdy-$arch"
    cc=$cross
    if ! command -v "$cross" >/dev/null; then
        echo "build.sh --target $arch: $cross not found (Debian: apt-get install gcc-${cross%-gcc})" >&2
        exit 1
    fi
    # rustc links musl targets with a C compiler driver; the host's gcc
    # would look for x86_64 objects. rust-lld (below) still does the linking.
    export "CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_LINKER=$cross"
fi

# rust-std for a musl target carries musl's C runtime (lib/self-contained:
# crt1.o, crti.o, crtn.o, libc.a, crtbegin.o, crtend.o, libunwind.a). A
# build-std build without rust-std (armv7 here; every foreign --min build,
# as nightly has no rust-std for them either) takes it from Debian instead:
# musl-dev for that architecture, and the cross gcc's crtbegin/crtend and
# libgcc_eh (the unwinder; with panic=abort it only serves backtraces).
# rustc looks for the crt objects on -L native paths too.
c_runtime() { # toolchain ("" or +nightly)
    if rustup target list ${1:+--toolchain ${1#+}} --installed | grep -qx "$target"; then
        return 0
    fi
    musl="/usr/lib/$(echo "${cross%-gcc}" | sed 's/gnu/musl/')"
    if [ ! -f "$musl/libc.a" ]; then
        deb=$(dpkg --print-architecture 2>/dev/null || echo amd64)
        case "$arch" in aarch64) deb=arm64 ;; armv7) deb=armhf ;; esac
        echo "build.sh --target $arch: no musl C library in $musl (Debian: dpkg --add-architecture $deb; apt-get install musl-dev:$deb)" >&2
        exit 1
    fi
    gcc_dir=$(dirname "$($cross -print-libgcc-file-name)")
    dir="$PWD/target/c-runtime/$target"
    mkdir -p "$dir"
    for f in crt1.o crti.o crtn.o libc.a; do ln -sf "$musl/$f" "$dir/$f"; done
    ln -sf "$gcc_dir/crtbegin.o" "$dir/crtbegin.o"
    ln -sf "$gcc_dir/crtend.o" "$dir/crtend.o"
    ln -sf "$gcc_dir/libgcc_eh.a" "$dir/libunwind.a"
    echo "-L native=$dir"
}

# --- end cross-compilation ---

# Both builds use build-std (below), so a target needs only rust-src; its
# rust-std, where rustup has one, brings musl's C runtime (c_runtime above
# takes it from Debian where not).
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" 2>/dev/null ||
        echo "build.sh: rustup has no rust-std for $target; std is built from rust-src" >&2
fi

# ring compiles a little C and assembly. cc-rs looks for "$arch-linux-musl-gcc"
# when cross-compiling to musl; ring's C is freestanding (no libc headers), so
# the host gcc builds it correctly and no musl-tools package is needed.
export "CC_$(echo "$target" | tr '-' '_')=$cc"

# Non-PIE like Go's static binaries: static-pie carries ~57 KiB of relocations.
# No unwind tables for rdy's own crates: with panic=abort nothing unwinds
# (~30 KiB). rust-lld with identical code folding saves another ~17 KiB when
# the toolchain ships it (rustup toolchains do, under lib/rustlib/HOST/bin).
#
# With lld, the functions a check runs are also laid out together, in the
# order of layout/VARIANT.order (made by bench/layout.py). Linux maps a
# binary's pages around each page fault (64 KiB of "fault-around"), so code
# scattered over the binary makes most of it resident for a one-millisecond
# check; packed together it is a few such windows. The link map tells how
# much of the order still matches the symbols (check_layout below).
#
# Both builds rebuild std (build-std) with panic=abort, no unwind tables and
# without std's `backtrace` feature: nothing unwinds, so the DWARF
# symboliser (gimli, addr2line) that the default panic hook links would only
# print frames of a backtrace nobody asked for (~190 KiB); in the stable
# build a panic still prints its message and location. The stable build gets build-std from the stable compiler with
# RUSTC_BOOTSTRAP=1 (the same compiler release, pinned by the toolchain);
# see docs/decisions.md. The unwind tables that C and assembly objects bring
# (.eh_frame, ~13 KiB) are discarded by layout/discard.ld.
#
# Source paths in panic locations are remapped to short, machine-independent
# prefixes (also what makes two builds in different directories identical).
link_flags() { # toolchain variant
    sysroot="$(rustc $1 --print sysroot)"
    gcc_ld="$sysroot/lib/rustlib/$host/bin/gcc-ld"
    flags="-C relocation-model=static -C target-feature=+crt-static -C force-unwind-tables=no"
    flags="$flags --remap-path-prefix=$PWD=rdy --remap-path-prefix=$sysroot/lib/rustlib/src/rust=rust"
    flags="$flags --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src=crates"
    if [ -x "$gcc_ld/ld.lld" ]; then
        flags="$flags -C link-arg=-Wl,-T,$PWD/layout/discard.ld -C link-arg=-Wl,--no-eh-frame-hdr"
        flags="$flags -C link-arg=-fuse-ld=lld -C link-arg=-B$gcc_ld -C link-arg=-Wl,--icf=all"
        if [ -f "layout/$2.order" ]; then
            flags="$flags -C link-arg=-Wl,--symbol-ordering-file=$PWD/layout/$2.order"
            flags="$flags -C link-arg=-Wl,--no-warn-symbol-ordering,--no-demangle"
            flags="$flags -C link-arg=-Wl,-Map=$PWD/target/$2.map"
        fi
    fi
    if $symbols; then
        # After the profile's `strip`: same crate hashes, so same names.
        flags="$flags -C strip=none"
    fi
    echo "$flags"
}

# Symbol names carry hashes of the toolchain and dependency versions, and
# LLVM numbers its local copies (`to_digit.366`) in the order it meets them,
# so a change anywhere can rename a few hot functions. Each one that falls
# out of the order lands in its own fault-around window: 17 of 1,294 missing
# (after merging fixes to three parsers) cost 196 KiB of peak RSS. Say so
# when more than 1 % is missing; a fresh order matches over 99.5 %.
check_layout() { # variant
    order="layout/$1.order" map="target/$1.map"
    [ -f "$order" ] && [ -f "$map" ] || return 0
    awk -v order="$order" '
        FNR == NR { if ($0 !~ /^#/ && NF) { want[$1] = 1; listed++ } next }
        ($NF in want) && !($NF in seen) { seen[$NF] = 1; found++ }
        END {
            if (found * 100 < listed * 99)
                printf "build.sh: only %d of %d symbols in %s exist in this build; " \
                       "regenerate it with bench/layout.py\n", found, listed, order > "/dev/stderr"
        }' "$order" "$map"
}

# The order is not an input cargo tracks: relink when it changed, by removing
# the binary (cargo would restore it from deps/ alone).
relink_if_reordered() { # variant release-dir
    if [ -f "layout/$1.order" ] && [ "layout/$1.order" -nt "$2/rdy" ]; then
        rm -f "$2/rdy" "$2"/deps/rdy-*
    fi
}

size_of() {
    printf '%s: %s bytes\n' "$1" "$(wc -c < "$1" | tr -d ' ')"
}

# Prints the binary's size against its limit in size-budget (base + landed
# allowances) and fails the build when it is over. Symbol builds only print
# their size.
check_budget() { # file budget-name
    if $symbols; then
        size_of "$1"
        return 0
    fi
    bytes=$(wc -c < "$1" | tr -d ' ')
    limit=$(awk -v name="$2" '
        $1 == "base" && $2 == name { base = $3 }
        $1 == "allowance" && $3 == "landed" { extra += $2 }
        END { if (base) print base + extra }' size-budget)
    if [ -z "$limit" ]; then
        echo "build.sh: size-budget has no line \"base $2\"" >&2
        exit 1
    fi
    if [ "$bytes" -gt "$limit" ]; then
        echo "build.sh: $1 is $bytes bytes, $((bytes - limit)) over its budget of $limit (size-budget)" >&2
        exit 1
    fi
    echo "$1: $bytes bytes, $((limit - bytes)) under the budget of $limit"
}

# Where a variant's build goes: its own target dir, so that switching between
# stripped and symbol builds does not rebuild everything each time.
suffix=""
if $symbols; then
    suffix="-symbols"
fi

# rust-src for build-std, in the toolchain that builds ($1: "" or +nightly).
need_rust_src() {
    if ! rustup component list $1 --installed | grep -q '^rust-src'; then
        rustup component add $1 rust-src
    fi
}

mkdir -p dist target
need_rust_src ""
relink_if_reordered $name "target/static$suffix/$target/release"
runtime=$(c_runtime "")
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(link_flags "" $name) $runtime" cargo build --release --locked \
    --target "$target" --target-dir "target/static$suffix" \
    -Z build-std=std,panic_abort -Z build-std-features=
cp "target/static$suffix/$target/release/rdy" "dist/$name$suffix"
check_layout $name
check_budget "dist/$name$suffix" rdy

if $min; then
    if ! cargo +nightly --version >/dev/null 2>&1; then
        echo "build.sh --min: no nightly toolchain; skipped (rustup toolchain install nightly)" >&2
        exit 0
    fi
    need_rust_src "--toolchain nightly"
    if ! rustup target list --toolchain nightly --installed | grep -qx "$target"; then
        # build-std needs only rust-src; the target's rust-std is optional.
        rustup target add --toolchain nightly "$target" 2>/dev/null || true
    fi
    # panic=immediate-abort drops the panic machinery: a panic aborts
    # without its message; location-detail=none drops file:line strings;
    # fmt-debug=shallow makes derived Debug print the type name only (27 KB).
    # Never -Zfmt-debug=none: the HTTP crates write wire values (versions,
    # methods) with hand-written Debug impls, which only `none` empties.
    # LLVM's machine outliner moves instruction sequences that repeat across
    # functions into one shared copy (a call each): smaller code, no
    # behaviour change, a few cycles per outlined call.
    relink_if_reordered $name-min "target/min$suffix/$target/release"
    runtime=$(c_runtime +nightly)
    RUSTFLAGS="$(link_flags +nightly $name-min) $runtime -Zlocation-detail=none -Zfmt-debug=shallow \
-Zunstable-options -Cpanic=immediate-abort -Cllvm-args=-enable-machine-outliner=always" \
        cargo +nightly build --release --locked --target "$target" --target-dir "target/min$suffix" \
        -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
    cp "target/min$suffix/$target/release/rdy" "dist/$name-min$suffix"
    check_layout $name-min
    check_budget "dist/$name-min$suffix" rdy-min
fi
