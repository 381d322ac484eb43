"""Plays a conversation (one JSON message per line) on a WebSocket and prints the replies, one
per line: `converse.py ws://host:port/path conversation.jsonl`. A message may carry
`"_expect": N` (not sent) when it gets N replies; a group's replies are printed sorted, since
their order across cores is not the protocol's."""

import asyncio
import json
import sys

import websockets


async def main(url, path):
    with open(path) as f:
        messages = [json.loads(line) for line in f if line.strip()]
    async with websockets.connect(url) as ws:
        for message in messages:
            expect = message.pop("_expect", 1)
            await ws.send(json.dumps(message))
            replies = [await asyncio.wait_for(ws.recv(), 20) for _ in range(expect)]
            canonical = [json.dumps(json.loads(r), sort_keys=True) for r in replies]
            for reply in sorted(canonical):
                print(reply, flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
