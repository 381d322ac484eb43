#!/usr/bin/env bash
# HTTPS load on one core, against uweb's own plain HTTP as the in-run ratio (../shared/peers has
# no TLS peer servers). Server pinned to core 0, wrk to core 1; each line reports requests/s and
# requests per second of server CPU (the figure to compare when wrk is the bottleneck, as it is
# for handshakes: wrk spends more CPU per handshake than the server).
#
# TLS_PEERS adds HTTPS peers built elsewhere (one "name=command" per line; the command reads
# PORT and serves https://127.0.0.1:PORT/plaintext), run with the same loads:
#
#   cargo build --release --example hello_world --example tls_sni
#   bash benches/tls_load.sh            # DURATION=10 CONNS=64 RUNS=2
#   TLS_PEERS=$'hyper=/path/hyper_tls\nactix=/path/actix_tls' bash benches/tls_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/examples
duration=${DURATION:-10}; conns=${CONNS:-64}; runs=${RUNS:-2}

run() { # name port url server-command... -- wrk-args...
  local name=$1 port=$2 url=$3; shift 3
  local cmd=(); while [ "$1" != "--" ]; do cmd+=("$1"); shift; done; shift
  PORT=$port THREADS=1 taskset -c 0 "${cmd[@]}" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do curl -sk "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  local t0 t1 out rps cpu
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" "$@" "$url" 2>&1)
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  cpu=$(echo "($t1-$t0)/100" | bc -l)
  printf "%-40s %10.0f req/s  %5.2f server-cpu-s  %8.0f req/server-cpu-s  %s\n" \
    "$name" "$rps" "$cpu" "$(echo "$rps*$duration/$cpu" | bc -l)" \
    "$(echo "$out" | grep -E 'Socket errors|Non-2xx' | tr '\n' ' ')"
}

for r in $(seq "$runs"); do
  echo "== run $r"
  run "http  keep-alive c$conns" 18080 http://127.0.0.1:18080/plaintext "$bin/hello_world" --
  run "https keep-alive c$conns" 18443 https://127.0.0.1:18443/plaintext "$bin/tls_sni" --
  run "http  Connection: close c$conns" 18080 http://127.0.0.1:18080/plaintext "$bin/hello_world" -- -H 'Connection: close'
  run "https Connection: close c$conns (handshakes)" 18443 https://127.0.0.1:18443/plaintext "$bin/tls_sni" -- -H 'Connection: close'
  while IFS='=' read -r peer cmd; do
    [ -n "$peer" ] || continue
    read -ra argv <<< "$cmd"
    run "$peer https keep-alive c$conns" 18444 https://127.0.0.1:18444/plaintext "${argv[@]}" --
    run "$peer https Connection: close c$conns (handshakes)" 18444 https://127.0.0.1:18444/plaintext "${argv[@]}" -- -H 'Connection: close'
  done <<< "${TLS_PEERS:-}"
done
