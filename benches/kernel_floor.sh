#!/usr/bin/env bash
# Where each request or message's server CPU goes, user space against kernel, for issue 13's
# loads: every server runs alone on core 0 (load on core 1), its utime and stime
# (/proc/PID/stat) are read around one load run, and each is divided by the requests or
# messages served. Per load, the last column is the ceiling: the best peer's CPU per item
# over uweb's kernel time per item, i.e. the ratio uweb would reach if its user space cost
# nothing and it kept making the same syscalls. A ceiling under 1.2 means issue 13's target
# cannot be met on that load by user-space work.
#   benches/kernel_floor.sh              # DUR=4 seconds per load; RUNS=1
#   PEERS_TARGET=/path/to/target UWS=/tmp/peers-src/uWebSockets benches/kernel_floor.sh
# Builds the servers as benches/peers.sh does (benches/peers_lib.sh: PEERS_TARGET, UWS,
# UWS_GIT, USOCKETS_GIT); uWebSockets C++ is skipped if it is not built. Needs wrk, python3.
set -euo pipefail
. "$(dirname "$0")/peers_lib.sh"
build_servers
bin="$target/release"
dur="${DUR:-4}"
runs="${RUNS:-1}"
rows="$(mktemp)" # measure appends here
trap 'rm -f "$rows"' EXIT

http_servers=(
  "uweb=$examples/hello_world"
  "uWebSockets=$uws/PlaintextPort {port}"
  "may_minihttp=$bin/may_plaintext --port {port}"
  "hyper=$bin/hyper_plaintext --port {port}"
)
ws_servers=(
  "uweb=$examples/echo_server"
  "uWebSockets=$uws/EchoServerPort {port}"
)

for run in $(seq "$runs"); do
  for entry in "${http_servers[@]}"; do
    name=${entry%%=*}
    serve "$name" "${entry#*=}" || continue
    measure_http "$name" http_
    stop
  done
  for entry in "${ws_servers[@]}"; do
    name=${entry%%=*}
    for shape in "64 16 16" "16 16 4096" "64 1 16"; do
      set -- $shape
      serve "$name" "${entry#*=}" || break
      measure "$name" "ws_${1}x${2}x${3}" taskset -c 1 "$bin/ws_load" --port "$port" --path / \
        --conns "$1" --inflight "$2" --size "$3" --secs "$dur" --warmup 0
      stop
    done
  done
done

python3 "$(dirname "$0")/cpu_rows.py" "$rows" --ceiling uweb
