"""Plays a conversation (one JSON message per line) on a WebSocket and prints each reply on
one line: `converse.py ws://host:port/path conversation.jsonl`."""

import asyncio
import sys

import websockets


async def main(url, path):
    with open(path) as f:
        messages = [line.strip() for line in f if line.strip()]
    async with websockets.connect(url) as ws:
        for message in messages:
            await ws.send(message)
            print(await asyncio.wait_for(ws.recv(), 20), flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
