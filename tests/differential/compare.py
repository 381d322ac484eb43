"""Compares two transcripts of replies field by field: `compare.py seed.txt ours.txt
conversation.jsonl`. Exit 1 on the first difference, naming the message and the field."""

import json
import sys

seed, ours, conversation = (open(p).read().splitlines() for p in sys.argv[1:4])
if len(seed) != len(ours):
    sys.exit(f"{len(seed)} replies from the seed, {len(ours)} from uweb")
for sent, a, b in zip(conversation, seed, ours):
    a, b = json.loads(a), json.loads(b)
    if a != b:
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        sys.exit(f"sent {sent}\n  seed: {a}\n  uweb: {b}\n  differing fields: {fields}")
print(f"{len(seed)} replies identical, field by field")
