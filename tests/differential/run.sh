#!/usr/bin/env bash
# Differential tests against the seeds' real packages (issue 9): the same scripted
# conversation goes to the seed (its PyPI package, served by its usual server) and to uweb's
# example; the replies must match field by field (compare.py lets uweb's error messages
# extend the seed's with the field that did not validate).
#
# Left out of the SocketAPI conversation: `get_history` without `limit`. socketapi 0.2.0
# makes every parameter required (its validator ignores Python defaults), so the seed refuses
# it, where the documented default (50) is what uweb's example honours.
#
#   PYTHON=/path/to/venv/bin/python tests/differential/run.sh
#
# PYTHON must have: django channels daphne django-channels-router socketapi starlette uvicorn
# websockets (.ci/run makes such a venv).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
ROOT=$(cd ../.. && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (generously) until something accepts on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

echo "== django-channels-router 1.0.3 (daphne) vs examples/channels_router.rs"
(cd "$ROOT" && cargo build --quiet --example channels_router)
seed_port=$(free_port)
"$PY" -m daphne -b 127.0.0.1 -p "$seed_port" channels_router.asgi:application \
  >"$OUT/daphne.log" 2>&1 &
PIDS+=($!)
ours_port=$(free_port)
PORT=$ours_port THREADS=1 "$TARGET/debug/examples/channels_router" >"$OUT/uweb.log" 2>&1 &
PIDS+=($!)
wait_port "$seed_port" || { cat "$OUT/daphne.log"; exit 1; }
wait_port "$ours_port"
conversation=channels_router/conversation.jsonl
"$PY" converse.py "ws://127.0.0.1:$seed_port/ws/app/" "$conversation" >"$OUT/seed.txt"
"$PY" converse.py "ws://127.0.0.1:$ours_port/ws/app/" "$conversation" >"$OUT/uweb.txt"
"$PY" compare.py "$OUT/seed.txt" "$OUT/uweb.txt"

echo "== socketapi 0.2.0 (uvicorn) vs examples/socketapi_chat.rs"
(cd "$ROOT" && cargo build --quiet --example socketapi_chat)
seed_port=$(free_port)
(cd socketapi_chat && exec "$PY" -m uvicorn app:app --host 127.0.0.1 --port "$seed_port" \
  --log-level warning) >"$OUT/uvicorn.log" 2>&1 &
PIDS+=($!)
ours_port=$(free_port)
PORT=$ours_port THREADS=2 "$TARGET/debug/examples/socketapi_chat" >"$OUT/uweb2.log" 2>&1 &
PIDS+=($!)
wait_port "$seed_port" || { cat "$OUT/uvicorn.log"; exit 1; }
wait_port "$ours_port"
conversation=socketapi_chat/conversation.jsonl
"$PY" converse.py "ws://127.0.0.1:$seed_port/" "$conversation" >"$OUT/seed2.txt"
"$PY" converse.py "ws://127.0.0.1:$ours_port/" "$conversation" >"$OUT/uweb2.txt"
"$PY" compare.py "$OUT/seed2.txt" "$OUT/uweb2.txt"

echo "== starlette (WebSocketEndpoint, encoding json; uvicorn) vs examples/ws_endpoint.rs"
(cd "$ROOT" && cargo build --quiet --example ws_endpoint)
seed_port=$(free_port)
(cd starlette_endpoint && exec "$PY" -m uvicorn app:app --host 127.0.0.1 --port "$seed_port" \
  --log-level warning) >"$OUT/uvicorn3.log" 2>&1 &
PIDS+=($!)
ours_port=$(free_port)
PORT=$ours_port THREADS=1 "$TARGET/debug/examples/ws_endpoint" >"$OUT/uweb3.log" 2>&1 &
PIDS+=($!)
wait_port "$seed_port" || { cat "$OUT/uvicorn3.log"; exit 1; }
wait_port "$ours_port"
conversation=starlette_endpoint/conversation.jsonl
"$PY" converse.py "ws://127.0.0.1:$seed_port/ws" "$conversation" >"$OUT/seed3.txt"
"$PY" converse.py "ws://127.0.0.1:$ours_port/ws" "$conversation" >"$OUT/uweb3.txt"
"$PY" compare.py "$OUT/seed3.txt" "$OUT/uweb3.txt"
