#!/usr/bin/env bash
# SocketAPI-style actions and channel fan-out, one run (issue 9's benchmark).
#
# 1. A small JSON action (`get_history` of an empty room, limit 5) answered over WebSocket,
#    CONNS connections x INFLIGHT in flight, server on core 0 and the load client
#    (benches/ws_load.rs) on core 1: actions per second and per second of server CPU for
#    examples/socketapi_chat (THREADS=1), the seed (socketapi 0.2.0 on uvicorn,
#    tests/differential/socketapi_chat/app.py) and jsonrpsee (benches/peers/jsonrpsee, the
#    JSON-RPC server a Rust user would pick instead; one current-thread runtime).
# 2. Channel fan-out: FANOUT connections subscribe to `chat_room` (room `lobby`), one
#    `POST /_broadcast` pushes a message, and the client reports when the first and the last
#    subscriber had it: uweb with 2 loops, and the seed.
#
#   PYTHON=/path/to/venv/bin/python bash benches/actions_load.sh   # SECS=5 FANOUT=10000
# PYTHON needs socketapi 0.2.0 and uvicorn (.ci/run's differential venv has them).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
secs=${SECS:-5}; fanout=${FANOUT:-10000}; conns=${CONNS:-16}; inflight=${INFLIGHT:-8}
port=${PORT:-19401}
ulimit -n 65536 2>/dev/null || true
PEERS_TARGET=${PEERS_TARGET:-$PWD/target/peers}   # absolute: the build runs in the peer's dir
cargo build --quiet --release --example socketapi_chat --bench ws_load
(cd benches/peers/jsonrpsee && CARGO_TARGET_DIR="$PEERS_TARGET" cargo build --quiet --release)
client() { taskset -c 1 cargo bench --quiet --bench ws_load 2>/dev/null; }

start() { # name threads cpus
  case $1 in
    uweb) PORT=$port THREADS=$2 taskset -c "$3" target/release/examples/socketapi_chat >/dev/null 2>&1 & ;;
    socketapi) (cd tests/differential/socketapi_chat && exec taskset -c "$3" "$PY" -m uvicorn app:app \
                  --host 127.0.0.1 --port "$port" --log-level warning) >/dev/null 2>&1 & ;;
    jsonrpsee) PORT=$port taskset -c "$3" "$PEERS_TARGET/release/jsonrpsee-peer" >/dev/null 2>&1 & ;;
  esac
  server=$!
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
  echo "$1 did not start" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; sleep 0.3; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }

action='{"type":"action","channel":"get_history","data":{"room_id":"empty","limit":5}}'
rpc='{"jsonrpc":"2.0","id":1,"method":"get_history","params":{"room_id":"empty","limit":5}}'
printf "%-10s %-24s %10s %8s %16s\n" server load "actions/s" "cpu-s" "actions/cpu-s"
for name in uweb socketapi jsonrpsee; do
  message=$action; [ "$name" = jsonrpsee ] && message=$rpc
  start "$name" 1 0
  t0=$(cpu_ticks)
  out=$(PORT=$port MESSAGE=$message CONNS=$conns INFLIGHT=$inflight SECS=$secs COMPRESS=0 client)
  t1=$(cpu_ticks)
  stop
  rate=$(sed -E 's/.*msgs_per_s=([0-9.]+).*/\1/' <<< "$out")
  msgs=$(sed -E 's/.*msgs=([0-9]+) .*/\1/' <<< "$out")
  cpu=$(echo "($t1-$t0)/100" | bc -l)
  printf "%-10s %-24s %10.0f %8.2f %16.0f\n" "$name" "get_history, ${conns}x${inflight}" \
    "$rate" "$cpu" "$(echo "$msgs/$cpu" | bc -l)"
done

echo
subscribe='{"type":"subscribe","channel":"chat_room","data":{"room_id":"lobby"}}'
push='{"channel":"chat_room","data":{"room_id":"lobby","message":{"user":"ada","text":"hello","room":"lobby"}}}'
for name in uweb socketapi; do
  start "$name" 2 0,1
  out=$(PORT=$port MESSAGE=$subscribe FANOUT=$fanout POST_BODY=$push COMPRESS=0 \
    cargo bench --quiet --bench ws_load 2>/dev/null)
  stop
  echo "$name: $out"
done
