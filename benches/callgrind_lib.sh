# Shared by benches/ws_callgrind.sh and benches/http_callgrind.sh (sourced, not run):
# callgrind_start BINARY PORT [ARG...] starts the server under callgrind with one loop (sets
# $vg and $out; PORT and THREADS=1 in its environment, the ARGs on its command line) and
# waits for its port; callgrind_zero and callgrind_total bracket the measured load
# (callgrind_total prints the instructions counted since callgrind_zero).
callgrind_start() {
  out="$(mktemp -d)"
  PORT="$2" THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" "$1" \
    "${@:3}" >/dev/null 2>&1 &
  vg=$!
  trap 'kill "$vg" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && break
    sleep 0.1
  done
}
callgrind_zero() { callgrind_control -z "$vg" >/dev/null 2>&1; }
callgrind_total() {
  callgrind_control -d "$vg" >/dev/null 2>&1
  callgrind_annotate "$out"/cg.*.1 | grep -m1 'PROGRAM TOTALS' | awk '{print $1}' | tr -d ,
}
