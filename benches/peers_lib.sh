# Shared by benches/peers.sh and benches/kernel_floor.sh (sourced, not run): where uweb, the
# peers of ../shared/peers and uWebSockets C++ are, how they get built, and how one server's
# CPU is measured around a load (serve, measure, stop: they share $port, $pid and $rows).
#   PEERS_TARGET   where the peers are (or get) built; default ../shared/peers/target
#   UWS            where uWebSockets C++ is built; default /tmp/peers-src/uWebSockets
#   UWS_GIT, USOCKETS_GIT   git dirs of uWebSockets and uSockets: build it if missing
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$(cd "$root/../shared/peers" && pwd)"
target="${PEERS_TARGET:-$peers/target}"
uws="${UWS:-/tmp/peers-src/uWebSockets}"
examples="$root/target/release/examples"

# Builds uweb's hello_world and echo_server, the peers, and uWebSockets C++ when its git
# snapshots are given (else says that it is missing, if it is).
build_servers() {
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" \
    --example hello_world --example echo_server
  (cd "$peers" && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
  if [ ! -x "$uws/PlaintextPort" ] && [ -n "${UWS_GIT:-}" ] && [ -n "${USOCKETS_GIT:-}" ]; then
    (cd "$peers" && ./uws_build.sh)
  fi
  [ -x "$uws/PlaintextPort" ] || echo "note: uWebSockets C++ is not built (UWS_GIT, USOCKETS_GIT)" >&2
}

# Runs one load ($@) against the server of pid $pid and appends "name load items" and the
# server's utime and stime (clock ticks) before and after. The CPU read spans the whole load
# command, so the count is every item it got answered (wrk's total, ws_load's with no
# warm-up).
measure() { # name load cmd...
  local name=$1 load=$2 u0 s0 u1 s1 out items
  shift 2
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  out="$("$@" 2>&1)"
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  items="$(echo "$out" | awk '/ requests in / {print $1} /^RESULT/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^count=/) { sub("count=", "", $i); print $i } }')"
  [ -n "$items" ] || { echo "$name $load: no result" >&2; return; }
  echo "$name $load $items $u0 $s0 $u1 $s1" >>"$rows"
}

serve() { # name cmd-with-{port}; starts it, sets $pid
  local cmd=${2//\{port\}/$port}
  env PORT="$port" THREADS=1 taskset -c 0 $cmd >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$1 did not start" >&2
  return 1
}

# Warms up the server that serve started, then measures it on /plaintext at 64 connections
# ("<prefix>c64") and at 256 connections pipelined 16 deep ("<prefix>c256x16"), $dur seconds
# each.
measure_http() { # name load-prefix
  local url="http://127.0.0.1:$port/plaintext"
  taskset -c 1 wrk -t1 -c64 -d1 "$url" >/dev/null 2>&1
  measure "$1" "${2}c64" taskset -c 1 wrk -t1 -c64 -d"$dur" "$url"
  measure "$1" "${2}c256x16" taskset -c 1 wrk -t1 -c256 -d"$dur" \
    -s "$peers/pipeline.lua" "$url" -- 16
}

stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; port=$((port + 1)); }
