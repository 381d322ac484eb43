#!/usr/bin/env bash
# Issue 13's table in one run: uweb's examples against every peer server of ../shared/peers
# (uWebSockets C++ included once built), each on one core with the load generator on the
# other, then per load uweb's figure, the best peer's and their ratio: requests or messages
# per second of server CPU (best of the runs), and bytes per idle WebSocket (lowest; there
# the target ratio is at most 0.8, elsewhere at least 1.2).
#   benches/peers.sh                        # RUNS=2 DUR=5; ONLY, TESTS, RUNS, DUR pass through
#   PEERS_TARGET=/path/to/target benches/peers.sh    # where the peers are (or get) built
#   UWS_GIT=<uWebSockets git dir> USOCKETS_GIT=<uSockets git dir> benches/peers.sh
#                                           # builds uWebSockets C++ first (uws_build.sh)
#   RESULTS=target/peers/<time>/results.tsv benches/peers.sh   # the table of a past run
# Needs wrk and python3. Results: target/peers/<time>/ (bench.sh's results.tsv, summary.md).
set -euo pipefail
. "$(dirname "$0")/peers_lib.sh"

# Prints the table of ratios of a bench.sh results.tsv.
ratios() {
  python3 - "$1" <<'PY'
import csv, sys
from collections import defaultdict

best = defaultdict(dict)  # (kind, load) -> server -> best figure
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    kind, server, load = r["kind"], r["server"], r["load"]
    try:
        rate = float(r["rate"])
    except ValueError:
        continue
    if kind == "idle" and load.startswith("idle"):
        figure, better = rate, min  # bytes per connection
    elif kind != "idle" and load.startswith("c"):
        try:
            cpu = float(r["srv_cpu_pct"])
        except ValueError:
            continue
        if cpu <= 0:
            continue
        figure, better = rate / (cpu / 100), max
    else:
        continue
    seen = best[(kind, load)].get(server)
    best[(kind, load)][server] = figure if seen is None else better(seen, figure)

print("| load | best peer | its figure | uweb | uweb / best | target |")
print("|---|---|---|---|---|---|")
for (kind, load), figures in best.items():
    ours = figures.get("uweb")
    others = {s: v for s, v in figures.items() if s != "uweb"}
    if ours is None or not others or min(others.values()) <= 0:
        continue
    pick = min if kind == "idle" else max
    peer = pick(others, key=others.get)
    target = "<= 0.80" if kind == "idle" else ">= 1.20"
    print(f"| {kind} {load} | {peer} | {others[peer]:,.0f} | {ours:,.0f} "
          f"| {ours / others[peer]:.2f} | {target} |")
PY
}

if [ -n "${RESULTS:-}" ]; then
  ratios "$RESULTS"
  exit
fi

build_servers
out="${OUT:-$root/target/peers/$(date +%Y%m%d-%H%M%S)}"
EXTRA_HTTP="uweb=env PORT={port} THREADS=1 $examples/hello_world" \
EXTRA_WS="uweb=env PORT={port} THREADS=1 $examples/echo_server" \
BIN="$target/release" UWS="$uws" OUT="$out" RUNS="${RUNS:-2}" DUR="${DUR:-5}" \
  "$peers/bench.sh" >/dev/null
ratios "$out/results.tsv"
echo "results in $out"
