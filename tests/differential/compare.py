"""Compares two transcripts of replies field by field: `compare.py seed.txt ours.txt`. Exit 1
on the first difference, naming the reply and the fields. One refinement is allowed, as the
issue asks: an error message of uweb's may extend the seed's (it names the field that did not
validate where the seed says only "Invalid parameters ...")."""

import json
import sys

seed, ours = (open(p).read().splitlines() for p in sys.argv[1:3])
if len(seed) != len(ours):
    sys.exit(f"{len(seed)} replies from the seed, {len(ours)} from uweb")
refined = 0
for n, (a, b) in enumerate(zip(seed, ours), 1):
    a, b = json.loads(a), json.loads(b)
    if (
        isinstance(a, dict)
        and isinstance(b, dict)
        and a.get("type") == "error" == b.get("type")
        and a.keys() == b.keys()
        and a["message"] != b["message"]
        and b["message"].startswith(a["message"] + ":")
    ):
        refined += 1
        continue
    if a != b:
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        sys.exit(f"reply {n}\n  seed: {a}\n  uweb: {b}\n  differing fields: {fields}")
print(f"{len(seed)} replies identical field by field ({refined} error messages refined)")
