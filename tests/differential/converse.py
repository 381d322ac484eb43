"""Plays a conversation (one JSON message per line) on a WebSocket and prints the replies, one
per line: `converse.py ws://host:port/path conversation.jsonl`.

A message may carry `"_expect": N` (not sent) when it gets N replies; a group's replies are
printed sorted, since their order across cores is not the protocol's. `{"_raw": "..."}` sends
that text as it is (e.g. not JSON). When the server closes, `{"close": <code>}` is printed
(the reason is not: the seeds leave it empty where uweb says why) and the conversation ends."""

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
            await ws.send(message["_raw"] if "_raw" in message else json.dumps(message))
            replies = []
            try:
                for _ in range(expect):
                    replies.append(await asyncio.wait_for(ws.recv(), 20))
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                print(json.dumps({"close": code}), flush=True)
                return
            canonical = [json.dumps(json.loads(r), sort_keys=True) for r in replies]
            for reply in sorted(canonical):
                print(reply, flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
