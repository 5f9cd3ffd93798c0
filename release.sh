#!/bin/sh
# Release artefacts of the checked-out commit, for every architecture.
#
#   ./release.sh [--min] [--no-build] [--image NAME]
#
#   1. ./build.sh --all (--min too): dist/rdy (x86_64), dist/rdy-aarch64,
#      dist/rdy-armv7 (and -min builds); --no-build takes dist/ as it is
#   2. dist/rdy*.cdx.json: a CycloneDX 1.5 SBOM per binary, the crates
#      compiled into it (cargo tree for its target, normal dependencies,
#      this build's features), with Cargo.lock's SHA-256 of each crate
#   3. dist/SHA256SUMS: every binary and SBOM in dist/
#   4. one FROM scratch image per architecture, NAME:VERSION-ARCH, holding
#      only /rdy, user 65532, with OCI labels; and the manifest list
#      NAME:VERSION over them (buildah manifest). NAME defaults to
#      localhost/rdy; push with
#      buildah manifest push --all NAME:VERSION docker://REGISTRY/rdy:VERSION
#
#   ./release.sh --check-reproducible
#      builds the commit twice from two clean clones at different paths and
#      compares the binaries byte for byte (see README, "Release").
#
# The source label is `git remote get-url origin`, or SOURCE_URL when set;
# with neither the images are not built (a label must be true).
set -eu
cd "$(dirname "$0")"

min=false build=true image=localhost/rdy reproducible=false
while [ $# -gt 0 ]; do
    case "$1" in
        --min) min=true ;;
        --no-build) build=false ;;
        --image) image=${2:?--image needs a NAME}; shift ;;
        --check-reproducible) reproducible=true ;;
        *) echo "usage: ./release.sh [--min] [--no-build] [--image NAME] | --check-reproducible" >&2; exit 2 ;;
    esac
    shift
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
description=$(sed -n 's/^description = "\(.*\)"/\1/p' Cargo.toml | head -n1)
license=$(sed -n 's/^license = "\(.*\)"/\1/p' Cargo.toml | head -n1)
commit=$(git rev-parse HEAD)
# Dates come from the commit, never from the clock: same commit, same bytes.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# arch  Rust triple                      binary           OCI platform
ARCHES="x86_64 x86_64-unknown-linux-musl rdy linux/amd64
aarch64 aarch64-unknown-linux-musl rdy-aarch64 linux/arm64
armv7 armv7-unknown-linux-musleabihf rdy-armv7 linux/arm/v7"

check_reproducible() {
    work=$(mktemp -d /tmp/rdy-repro.XXXXXX)
    for n in 1 2; do
        # Two different paths: a build path that leaks into the binary shows.
        git clone -q --no-local . "$work/build-$n-$(printf '%*s' "$n" '' | tr ' ' x)"
    done
    flags=""
    $min && flags="--min"
    for dir in "$work"/build-*; do
        git -C "$dir" checkout -q "$commit"
        # Fresh target directories: nothing shared but the toolchain and the
        # crates.io sources.
        # shellcheck disable=SC2086
        (cd "$dir" && ./build.sh --all $flags >/dev/null)
    done
    a=$(ls -d "$work"/build-* | head -n1) b=$(ls -d "$work"/build-* | tail -n1)
    status=0
    for f in "$a"/dist/rdy*; do
        name=$(basename "$f")
        if cmp -s "$f" "$b/dist/$name"; then
            echo "identical: $name $(sha256sum < "$f" | cut -d' ' -f1)"
        else
            echo "DIFFERENT: $name" >&2
            status=1
        fi
    done
    rm -rf "$work"
    exit $status
}

# CycloneDX JSON for one target: `cargo tree` lists the packages compiled
# for it (normal edges, no build scripts' or tests' dependencies), and
# Cargo.lock gives each crates.io package's checksum.
sbom() { # triple toolchain
    rustc=$2
    cargo tree --locked -e normal --target "$1" --prefix none --no-dedupe \
        --format '{p}|{l}' | sort -u | awk -F'|' \
        -v lock=Cargo.lock -v triple="$1" -v rustc="$rustc" -v created="$created" \
        -v version="$version" -v license="$license" -v description="$description" -v commit="$commit" '
        function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
        BEGIN {
            while ((getline line < lock) > 0) {
                if (line ~ /^name = /) { n = line; gsub(/^name = "|"$/, "", n) }
                else if (line ~ /^version = /) { v = line; gsub(/^version = "|"$/, "", v) }
                else if (line ~ /^checksum = /) { c = line; gsub(/^checksum = "|"$/, "", c); sum[n "@" v] = c }
            }
        }
        {
            split($1, p, " "); name = p[1]; ver = p[2]; sub(/^v/, "", ver)
            if (name == "rdy") next
            comp[++count] = sprintf("    {\"type\": \"library\", \"bom-ref\": \"pkg:cargo/%s@%s\", \"name\": \"%s\", \"version\": \"%s\", \"purl\": \"pkg:cargo/%s@%s\"%s%s}",
                name, ver, name, ver, name, ver,
                ($2 != "" ? sprintf(", \"licenses\": [{\"expression\": \"%s\"}]", esc($2)) : ""),
                ((name "@" ver) in sum ? sprintf(", \"hashes\": [{\"alg\": \"SHA-256\", \"content\": \"%s\"}]", sum[name "@" ver]) : ""))
        }
        END {
            print "{"
            print "  \"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\", \"version\": 1,"
            print "  \"metadata\": {"
            printf "    \"timestamp\": \"%s\",\n", created
            printf "    \"component\": {\"type\": \"application\", \"bom-ref\": \"pkg:cargo/rdy@%s\", \"name\": \"rdy\", \"version\": \"%s\", \"description\": \"%s\", \"licenses\": [{\"expression\": \"%s\"}], \"purl\": \"pkg:cargo/rdy@%s\"},\n", version, version, esc(description), license, version
            printf "    \"properties\": [{\"name\": \"target\", \"value\": \"%s\"}, {\"name\": \"rustc\", \"value\": \"%s\"}, {\"name\": \"git-commit\", \"value\": \"%s\"}]\n", triple, esc(rustc), commit
            print "  },"
            print "  \"components\": ["
            for (i = 1; i <= count; i++) printf "%s%s\n", comp[i], (i < count ? "," : "")
            print "  ]"
            print "}"
        }'
}

source_url() {
    if [ -n "${SOURCE_URL:-}" ]; then
        echo "$SOURCE_URL"
    else
        git remote get-url origin 2>/dev/null || true
    fi
}

images() {
    source=$(source_url)
    if [ -z "$source" ]; then
        echo "release.sh: no git remote 'origin' and no SOURCE_URL: the images' source label would be false; not building them" >&2
        return 1
    fi
    export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
    buildah manifest rm "$image:$version" >/dev/null 2>&1 || true
    buildah manifest create "$image:$version" >/dev/null
    echo "$ARCHES" | while read -r arch triple binary platform; do
        [ -f "dist/$binary" ] || { echo "release.sh: dist/$binary is missing" >&2; exit 1; }
        tag="$image:$version-$arch"
        buildah bud -q --platform "$platform" --timestamp "$SOURCE_DATE_EPOCH" \
            --build-arg "BINARY=dist/$binary" \
            --label "org.opencontainers.image.source=$source" \
            --label "org.opencontainers.image.revision=$commit" \
            --label "org.opencontainers.image.version=$version" \
            --label "org.opencontainers.image.created=$created" \
            --label "org.opencontainers.image.licenses=$license" \
            --label "org.opencontainers.image.title=rdy" \
            --label "org.opencontainers.image.description=$description" \
            -f Dockerfile.scratch -t "$tag" . >/dev/null
        buildah manifest add "$image:$version" "$tag" >/dev/null
        echo "image: $tag ($platform, $triple)"
    done
    echo "manifest list: $image:$version"
}

# STORAGE_DRIVER picks buildah's storage (the tests use vfs).
buildah() {
    command buildah ${STORAGE_DRIVER:+--storage-driver "$STORAGE_DRIVER"} "$@"
}

if $reproducible; then
    check_reproducible
fi

if $build; then
    if $min; then ./build.sh --all --min; else ./build.sh --all; fi
fi
echo "$ARCHES" | while read -r arch triple binary platform; do
    [ -f "dist/$binary" ] || { echo "release.sh: dist/$binary is missing (./build.sh --target $arch)" >&2; exit 1; }
    sbom "$triple" "$(rustc -V)" > "dist/$binary.cdx.json"
    if [ -f "dist/$binary-min" ]; then
        sbom "$triple" "$(rustc +nightly -V) (build-std)" > "dist/$binary-min.cdx.json"
    fi
done
(cd dist && for f in rdy rdy-min rdy-aarch64 rdy-aarch64-min rdy-armv7 rdy-armv7-min *.cdx.json; do
    if [ -f "$f" ]; then sha256sum "$f"; fi
done) > dist/SHA256SUMS
echo "dist/SHA256SUMS: $(wc -l < dist/SHA256SUMS | tr -d ' ') files"
images
