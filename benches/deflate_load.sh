#!/usr/bin/env bash
# permessage-deflate under load, one run: examples/echo_server with COMPRESSION=off|shared|dedicated
# and the Python `websockets` package's echo server with its default compression (the library our
# users come from), each on core 0, the load client (benches/ws_load.rs) on core 1.
# Per load: messages/s, server CPU seconds, messages per server-CPU-second (the figure to compare
# when the client is the bottleneck) and wire bytes per reply. Then the server's RSS growth per
# idle compressed socket (one message echoed on each, so dedicated contexts exist), measured
# between IDLE/3 and IDLE sockets so a loop's fixed costs (shared contexts) are left out.
#
#   cargo build --release --example echo_server
#   PYTHON=/path/to/venv/bin/python bash benches/deflate_load.sh   # SECS=5 IDLE=6000
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
ulimit -n 65536 2>/dev/null || true
secs=${SECS:-5}; idle=${IDLE:-6000}; port=${PORT:-19301}
cargo build --quiet --release --bench ws_load
client() { taskset -c 1 cargo bench --quiet --bench ws_load 2>/dev/null; }

start() { # mode -> pid in $server
  if [ "$1" = python ]; then
    taskset -c 0 "$PY" tests/differential/deflate_echo.py "$port" >/dev/null 2>&1 &
  else
    COMPRESSION=$1 PORT=$port THREADS=1 taskset -c 0 target/release/examples/echo_server >/dev/null 2>&1 &
  fi
  server=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

printf "%-14s %-22s %10s %8s %14s %12s %6s\n" server load "msgs/s" "cpu-s" "msgs/cpu-s" "wire B/msg" "rsv1"
for load in "16 64 8" "256 64 8" "4096 16 8"; do
  read -r size conns inflight <<< "$load"
  for mode in off shared dedicated dedicated_3kb python; do
    start "$mode"
    compress=1; [ "$mode" = off ] && compress=0
    t0=$(cpu_ticks)
    out=$(PORT=$port SIZE=$size CONNS=$conns INFLIGHT=$inflight SECS=$secs COMPRESS=$compress client)
    t1=$(cpu_ticks)
    stop
    rate=$(sed -E 's/.*msgs_per_s=([0-9.]+).*/\1/' <<< "$out")
    msgs=$(sed -E 's/.*msgs=([0-9]+) .*/\1/' <<< "$out")
    wire=$(sed -E 's/.*wire_bytes_per_reply=([0-9.]+).*/\1/' <<< "$out")
    rsv1=$(sed -E 's/.*compressed=([0-9]+%).*/\1/' <<< "$out")
    cpu=$(echo "($t1-$t0)/100" | bc -l)
    printf "%-14s %-22s %10.0f %8.2f %14.0f %12.1f %6s\n" "$mode" "${size} B, ${conns}x${inflight}" \
      "$rate" "$cpu" "$(echo "$msgs/$cpu" | bc -l)" "$wire" "$rsv1"
  done
done

echo
printf "%-14s %28s\n" server "RSS bytes per idle socket"
for mode in off shared dedicated dedicated_3kb python; do
  start "$mode"
  compress=1; [ "$mode" = off ] && compress=0
  coproc HOLD { PORT=$port SIZE=4096 IDLE=$idle COMPRESS=$compress client; }
  read -r first <&"${HOLD[0]}"
  before=$(rss_kib)
  echo >&"${HOLD[1]}"
  read -r all <&"${HOLD[0]}"
  after=$(rss_kib)
  eval "exec ${HOLD[1]}>&-"
  wait "$HOLD_PID" 2>/dev/null || true
  stop
  added=$(( ${all#READY } - ${first#READY } ))
  printf "%-14s %28.0f   (RSS %s -> %s KiB from %s to %s sockets)\n" "$mode" \
    "$(echo "($after-$before)*1024/$added" | bc -l)" "$before" "$after" "${first#READY }" "${all#READY }"
done
