#!/usr/bin/env bash
# Instructions per HTTP request, counted by callgrind (deterministic on a noisy machine): the
# server runs under valgrind with one loop, a warm-up load passes, the counters are zeroed,
# wrk sends 64 connections pipelined 16 deep for 10 s, and the total is divided by the
# requests answered. The server's environment passes through (e.g. MODE for plaintext_later).
#   benches/http_callgrind.sh [SERVER_BINARY] [PORT] [URL_PATH]
#   MODE=deferred benches/http_callgrind.sh target/release/examples/plaintext_later
# A peer counts the same way, its arguments in SERVER_ARGS ({port} is the port):
#   SERVER_ARGS="--port {port} --threads 1" benches/http_callgrind.sh <peers target>/release/hyper_plaintext
# Build the server with line tables to read the per-function costs after:
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example hello_world
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-target/release/examples/hello_world}"
port="${2:-21001}"
path="${3:-/plaintext}"
lua="$here/../../shared/peers/pipeline.lua"
. "$here/callgrind_lib.sh"
server_args="${SERVER_ARGS:-}"
read -r -a args <<<"${server_args//\{port\}/$port}"
callgrind_start "$bin" "$port" ${args[@]+"${args[@]}"}
wrk -t1 -c64 -d2 -s "$lua" "http://127.0.0.1:$port$path" -- 16 >/dev/null
callgrind_zero
wrk -t1 -c64 -d10 -s "$lua" "http://127.0.0.1:$port$path" -- 16 >"$out/load.txt"
total=$(callgrind_total)
count=$(awk '/requests in/{print $1}' "$out/load.txt")
echo "requests=$count instructions=$total per_request=$((total / count)) (profile in $out)"
