"""Prints the CPU tables of benches/kernel_floor.sh and benches/answer_later.sh from the rows
that benches/peers_lib.sh's `measure` appends ("name load items utime0 stime0 utime1
stime1", CPU in clock ticks). Per load and server, the run that cost the least CPU per item
(request or message) counts.

    cpu_rows.py ROWS [--ceiling SERVER] [--ratio 'LABEL=A/B' ...]

--ceiling SERVER adds a column to SERVER's row: the best other server's CPU per item over
SERVER's kernel time per item (the ratio SERVER would reach if its user space cost nothing).
Each --ratio adds a column to a second table, per load: A's items per CPU-second over B's.
"""

import argparse
import os
from collections import defaultdict


def best_per_item(path, hz):
    """{load: {server: (total ns, user ns, kernel ns)}}, lowest total per item."""
    best = defaultdict(dict)
    for line in open(path):
        name, load, items, u0, s0, u1, s1 = line.split()
        items = float(items)
        user = (int(u1) - int(u0)) / hz / items * 1e9
        kernel = (int(s1) - int(s0)) / hz / items * 1e9
        seen = best[load].get(name)
        if seen is None or user + kernel < seen[0]:
            best[load][name] = (user + kernel, user, kernel)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rows")
    parser.add_argument("--ceiling")
    parser.add_argument("--ratio", action="append", default=[])
    args = parser.parse_args()
    best = best_per_item(args.rows, float(os.sysconf("SC_CLK_TCK")))

    extra = " ceiling |" if args.ceiling else ""
    print("| load | server | items per CPU-s | user ns/item | kernel ns/item |" + extra)
    print("|---|---|---|---|---|" + ("---|" if args.ceiling else ""))
    for load, servers in best.items():
        others = [v[0] for n, v in servers.items() if n != args.ceiling]
        for name, (total, user, kernel) in sorted(servers.items(), key=lambda kv: kv[1][0]):
            row = f"| {load} | {name} | {1e9 / total / 1000:,.1f}k | {user:.0f} | {kernel:.0f} |"
            if args.ceiling:
                ceiling = name == args.ceiling and others and kernel > 0
                row += f" {min(others) / kernel:.2f} |" if ceiling else " |"
            print(row)

    if not args.ratio:
        return
    ratios = [r.split("=", 1) for r in args.ratio]
    print()
    print("| load | " + " | ".join(label for label, _ in ratios) + " |")
    print("|---|" + "---|" * len(ratios))
    for load, servers in best.items():
        cells = []
        for _, pair in ratios:
            a, b = pair.split("/")
            ok = a in servers and b in servers
            cells.append(f"{servers[b][0] / servers[a][0]:.2f}" if ok else "n/a")
        print(f"| {load} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
