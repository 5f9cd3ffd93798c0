#!/bin/sh
# Kubernetes benchmark against the fake API server (tests/common/kube.rs):
# time from the "ready" watch event to rdy wait's exit, and the requests a
# minute-long wait makes; rdy serve's object health under wrk (needs wrk).
# Takes a little over a minute.
set -eu
cd "$(dirname "$0")/.."
cargo test --release --test k8s_bench -- --ignored --nocapture --test-threads 1 2>&1 \
    | grep -oE '(ready event|API requests|object health).*'
