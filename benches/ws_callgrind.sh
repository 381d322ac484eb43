#!/usr/bin/env bash
# Instructions per echoed WebSocket message, counted by callgrind (deterministic on a noisy
# machine): the echo server runs under valgrind, a warm-up load passes, the counters are
# zeroed, ws_load (../shared/peers) sends 64 connections x 16 in flight x 16 B for 10 s, and
# the total is divided by the messages it got back. CONNS, INFLIGHT and SIZE (bytes) choose
# another load, e.g. issue 13's 16 x 16 x 4 KiB row: CONNS=16 SIZE=4096.
#   WS_LOAD=/path/to/ws_load benches/ws_callgrind.sh [SERVER_BINARY] [PORT]
# Build the server with line tables to read the per-function costs after:
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example echo_server
set -euo pipefail
bin="${1:-target/release/examples/echo_server}"
port="${2:-21000}"
load="${WS_LOAD:?set WS_LOAD to the ws_load binary of ../shared/peers}"
shape=(--conns "${CONNS:-64}" --inflight "${INFLIGHT:-16}" --size "${SIZE:-16}")
. "$(dirname "$0")/callgrind_lib.sh"
callgrind_start "$bin" "$port"
"$load" --port "$port" --path / "${shape[@]}" --secs 2 --warmup 1 >/dev/null
callgrind_zero
"$load" --port "$port" --path / "${shape[@]}" --secs 10 --warmup 0 \
  >"$out/load.txt"
total=$(callgrind_total)
count=$(grep -o 'count=[0-9]*' "$out/load.txt" | cut -d= -f2)
echo "messages=$count instructions=$total per_message=$((total / count)) (profile in $out)"
