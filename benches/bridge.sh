#!/usr/bin/env bash
# The Redis pub/sub bridge, one run: starts a redis-server on a free loopback port and runs
# benches/bridge.rs against it (latency p50/p99 with 1, 100 and 10,000 subscribers on the
# receiving node, and messages/s through one bridge).
#
#   bash benches/bridge.sh          # MESSAGES=2000 BURST=200000
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis=$!
trap 'kill $redis 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*')"
REDIS_URL="redis://127.0.0.1:$port/" cargo bench --quiet --features redis --bench bridge 2>&1 | grep -v '^$'
