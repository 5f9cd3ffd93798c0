#!/bin/sh
# Runs every fuzz target (or those named) for SECONDS each (default 600),
# two at a time, with the options the campaign in README.md used. Logs go
# to logs/<target>.log; crashes to artifacts/<target>/.
#
#   ./campaign.sh              # all targets, 10 minutes each
#   SECONDS_EACH=60 ./campaign.sh json cli
set -eu
cd "$(dirname "$0")"
seconds=${SECONDS_EACH:-600}
jobs=${JOBS:-2}
all="json kube_yaml icmp duration status header target kube_target base64 percent timestamp forward cli serve_request watch_stream json_stream"
targets=${*:-$all}

cargo +nightly fuzz build -a
mkdir -p logs

run() {
    target=$1
    extra=""
    case $target in
        json) extra="-dict=dicts/json.dict -max_len=65536" ;;
        kube_yaml) extra="-dict=dicts/yaml.dict -max_len=65536" ;;
        cli) extra="-dict=dicts/cli.dict -max_len=16384" ;;
    esac
    # shellcheck disable=SC2086
    cargo +nightly fuzz run -a "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 \
        -print_final_stats=1 $extra >"logs/$target.log" 2>&1 &&
        echo "$target: done" || echo "$target: FAILED, see logs/$target.log"
}

# A simple pool: start up to $jobs runs, wait for the batch, go on.
set -- $targets
while [ $# -gt 0 ]; do
    n=0
    while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
        run "$1" &
        shift
        n=$((n + 1))
    done
    wait
done
for target in $targets; do
    printf '%s: ' "$target"
    grep -h 'stat::number_of_executed_units' "logs/$target.log" | awk '{print $2 " executions"}' || echo "no stats"
done
