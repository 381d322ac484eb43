#!/usr/bin/env bash
# Issue 8's throughput figures in one run: plaintext answered by uweb synchronously
# (hello_world), by a deferred handle from the loop (plaintext_later MODE=deferred), by an
# async handler ready at once (MODE=async) and by one that waits once, so that every answer
# comes from a tokio task (MODE=async-task); hyper (always async) beside them, as
# ../shared/peers builds it and as benches/peers/hyper_wait builds it with the handler of
# MODE=async-task (it waits once, `yield_now`, before it answers). Each server
# runs alone on core 0 with wrk on core 1, at 64 connections and at 256 pipelined 16 deep;
# its utime and stime (/proc/PID/stat) around each load give requests per second of server
# CPU (best of the runs), split into user and kernel ns per request. Then the ratios the
# issue targets: (a) async through a task / hyper >= 1.0, against hyper's handler that answers
# at once and against the same handler as uweb's (hyper-wait); uweb's async handler ready
# at once / hyper; (b) deferred / sync >= 0.8.
#   benches/answer_later.sh                        # DUR=4 seconds per load; RUNS=2
#   PEERS_TARGET=/path/to/target benches/answer_later.sh   # where the peers are (or get) built
# Needs wrk and python3.
set -euo pipefail
. "$(dirname "$0")/peers_lib.sh"
build_servers
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --features tokio \
  --example plaintext_later
(cd "$root/benches/peers/hyper_wait" && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
dur="${DUR:-4}"
runs="${RUNS:-2}"
rows="$(mktemp)" # measure appends here
trap 'rm -f "$rows"' EXIT

# name=command for serve: [VAR=value ...] binary [arg ...], {port} standing for the port.
servers=(
  "sync=$examples/hello_world"
  "deferred=MODE=deferred $examples/plaintext_later"
  "async=MODE=async $examples/plaintext_later"
  "async-task=MODE=async-task $examples/plaintext_later"
  "hyper=$target/release/hyper_plaintext --port {port}"
  "hyper-wait=$target/release/hyper-wait --port {port}"
)

for _ in $(seq "$runs"); do
  for entry in "${servers[@]}"; do
    name=${entry%%=*}
    serve "$name" "${entry#*=}" || continue
    measure_http "$name" ""
    stop
  done
done

python3 "$(dirname "$0")/cpu_rows.py" "$rows" \
  --ratio "(a) async-task / hyper=async-task/hyper" \
  --ratio "async-task / hyper-wait (same handler)=async-task/hyper-wait" \
  --ratio "async / hyper=async/hyper" \
  --ratio "(b) deferred / sync=deferred/sync"
