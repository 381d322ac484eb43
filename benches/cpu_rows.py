"""The rows that benches/peers_lib.sh's `measure` appends ("name load items utime0 stime0
utime1 stime1", CPU in clock ticks), per load and server the run that cost the least CPU
per item: (total ns, user ns, kernel ns) per request or message. Imported by the python of
benches/kernel_floor.sh and benches/answer_later.sh."""

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
