# Shared by benches/peers.sh, kernel_floor.sh and answer_later.sh (sourced, not run): where
# uweb, the peers of ../shared/peers and uWebSockets C++ are, how they get built, and how one
# server's CPU is measured around a load (serve, measure, measure_http, stop: they share
# $port, $pid, $rows and $dur).
#   PEERS_TARGET   where the peers are (or get) built; default ../shared/peers/target
#   UWS            where uWebSockets C++ is built; default /tmp/peers-src/uWebSockets
#   UWS_GIT, USOCKETS_GIT   git dirs of uWebSockets and uSockets: build it if missing
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$(cd "$root/../shared/peers" && pwd)"
target="${PEERS_TARGET:-$peers/target}"
uws="${UWS:-/tmp/peers-src/uWebSockets}"
examples="$root/target/release/examples"
# The first port serve uses (stop moves on to the next): below the kernel's ephemeral range
# (ip_local_port_range, 32768 up), where a load generator's own connections could hold it
# and the server's bind fail.
port=$((21000 + RANDOM % 10000))

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

# Starts server `name` on core 0 with PORT and THREADS=1 in its environment and waits for
# its port; sets $pid. `cmd` is "[VAR=value ...] binary [arg ...]", {port} standing for the
# port. Returns 1 (and says so) if the binary is missing or does not start.
serve() { # name cmd
  local cmd=${2//\{port\}/$port} word
  for word in $cmd; do
    [[ $word == *=* ]] && continue
    [ -x "$word" ] || { echo "$1: $word is missing" >&2; return 1; }
    break
  done
  taskset -c 0 env PORT="$port" THREADS=1 $cmd >/dev/null 2>&1 &
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
