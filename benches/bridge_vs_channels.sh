#!/usr/bin/env bash
# The cluster chat on two nodes and one redis-server, uweb against Django Channels with
# channels_redis, one run: `examples/cluster_chat` (one loop per node) and
# `benches/peers/channels_chat/chat.py` (uvicorn, one process per node) get the same client
# (`benches/peers/channels_chat/load.py`): N members on node B, one sender on node A, the
# latency until every member on B has a line (p50/p99/max, lines sent one at a time), and a
# burst's rate. Nodes and redis on core 0, the client on core 1.
#
#   PYTHON=~/.cache/uweb-differential-venv/bin/python bash benches/bridge_vs_channels.sh
# The Python needs websockets, uvicorn, channels and channels_redis (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SUBS=${SUBS:-"1 100"}
MESSAGES=${MESSAGES:-500}
BURST=${BURST:-5000}
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

redis_port=$(free_port)
taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
wait_port "$redis_port"
export REDIS_URL="redis://127.0.0.1:$redis_port/"
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*'), $("$PYTHON" -c 'import channels, channels_redis, uvicorn; print("channels", channels.__version__, "channels_redis", channels_redis.__version__, "uvicorn", uvicorn.__version__)')"

cargo build --release --quiet --features redis --example cluster_chat

run() { # name, then the command of a node with {port} in it
  local name=$1 cmd=$2 a b
  a=$(free_port); b=$(free_port)
  for port in "$a" "$b"; do
    env PORT="$port" THREADS=1 taskset -c 0 ${cmd//\{port\}/$port} >/dev/null 2>&1 &
    pids+=($!)
  done
  wait_port "$a"; wait_port "$b"
  for subs in $SUBS; do
    local burst=0
    [ "$subs" = 1 ] && burst=$BURST
    printf '%-16s ' "$name"
    taskset -c 1 "$PYTHON" benches/peers/channels_chat/load.py --a "ws://127.0.0.1:$a" \
      --b "ws://127.0.0.1:$b" --subs "$subs" --messages "$MESSAGES" --burst "$burst" --room "r$subs"
  done
  cleanup; pids=()
  taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
  pids+=($!)
  wait_port "$redis_port"
}

run uweb "target/release/examples/cluster_chat"
run django-channels "$PYTHON -m uvicorn --app-dir benches/peers/channels_chat chat:application --log-level warning --port {port}"
