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
# websockets, and aiohttp for the permessage-deflate interop (.ci/run makes such a venv).
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

# Plays `$dir/conversation.jsonl` against the seed and against uweb's example, on `path`,
# and compares the replies. The seed is the command after `--`, run in `$dir` with {port}
# replaced by its port; the example runs with `threads` loops.
differ() {
  local title=$1 dir=$2 example=$3 threads=$4 path=$5
  shift 6
  echo "== $title"
  (cd "$ROOT" && cargo build --quiet --example "$example")
  local seed_port ours_port
  seed_port=$(free_port)
  (cd "$dir" && exec "${@//\{port\}/$seed_port}") >"$OUT/$dir.seed.log" 2>&1 &
  PIDS+=($!)
  ours_port=$(free_port)
  PORT=$ours_port THREADS=$threads "$TARGET/debug/examples/$example" >"$OUT/$dir.uweb.log" 2>&1 &
  PIDS+=($!)
  wait_port "$seed_port" || { cat "$OUT/$dir.seed.log"; exit 1; }
  wait_port "$ours_port"
  "$PY" converse.py "ws://127.0.0.1:$seed_port$path" "$dir/conversation.jsonl" >"$OUT/$dir.seed.txt"
  "$PY" converse.py "ws://127.0.0.1:$ours_port$path" "$dir/conversation.jsonl" >"$OUT/$dir.uweb.txt"
  "$PY" compare.py "$OUT/$dir.seed.txt" "$OUT/$dir.uweb.txt"
}

uvicorn=("$PY" -m uvicorn app:app --host 127.0.0.1 --port "{port}" --log-level warning)
differ "django-channels-router 1.0.3 (daphne) vs examples/channels_router.rs" \
  channels_router channels_router 1 /ws/app/ -- \
  env PYTHONPATH=.. "$PY" -m daphne -b 127.0.0.1 -p "{port}" channels_router.asgi:application
differ "socketapi 0.2.0 (uvicorn) vs examples/socketapi_chat.rs" \
  socketapi_chat socketapi_chat 2 / -- "${uvicorn[@]}"
differ "starlette (WebSocketEndpoint, encoding json; uvicorn) vs examples/ws_endpoint.rs" \
  starlette_endpoint ws_endpoint 1 /ws -- "${uvicorn[@]}"

# permessage-deflate interop: the websockets and aiohttp clients (zlib) against the websockets
# package's own echo server (the baseline), then against examples/echo_server in its three modes.
echo "== permessage-deflate: websockets $("$PY" -c 'import websockets; print(websockets.__version__)') and aiohttp clients vs examples/echo_server"
(cd "$ROOT" && cargo build --quiet --example echo_server)
ref_port=$(free_port)
"$PY" deflate_echo.py "$ref_port" >"$OUT/deflate_ref.log" 2>&1 &
PIDS+=($!)
wait_port "$ref_port" || { cat "$OUT/deflate_ref.log"; exit 1; }
"$PY" deflate_interop.py "ws://127.0.0.1:$ref_port/" reference
for mode in shared dedicated dedicated_3kb; do
  port=$(free_port)
  COMPRESSION=$mode PORT=$port THREADS=1 "$TARGET/debug/examples/echo_server" >"$OUT/deflate_$mode.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port"
  "$PY" deflate_interop.py "ws://127.0.0.1:$port/" "$mode"
done
