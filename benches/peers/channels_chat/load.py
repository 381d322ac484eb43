"""Cross-node chat latency and throughput, the same for any two chat nodes speaking
`ws /chat/<room>` (uweb's cluster_chat, or chat.py on Django Channels): N members join the room
on node B, one member on node A sends; a line counts as delivered when every member on B has it.

  python load.py --a ws://127.0.0.1:3000 --b ws://127.0.0.1:3001 --subs 100 --messages 500

Prints one line: p50/p99/max of the per-line delivery latency (sent one at a time), and the
rate of a burst (--burst lines sent back to back, until the first member on B has them all).
"""

import argparse
import asyncio
import re
import time

import websockets

MARK = re.compile(r"\bt(\d+) (\d+)\b")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--subs", type=int, default=1)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--burst", type=int, default=0)
    parser.add_argument("--room", default="bench")
    args = parser.parse_args()

    arrivals = {}  # line number -> members on B that have it
    done = {}  # line number -> event set when all have it
    latencies = []
    first_member_count = [0]

    async def member(ws, index):
        async for text in ws:
            found = MARK.search(text)
            if not found:
                continue
            n = int(found.group(1))
            if index == 0:
                first_member_count[0] += 1
            arrivals[n] = arrivals.get(n, 0) + 1
            if arrivals[n] == args.subs:
                sent = int(found.group(2))
                latencies.append(time.perf_counter_ns() - sent)
                if n in done:
                    done[n].set()

    connect = lambda url: websockets.connect(  # noqa: E731
        f"{url}/chat/{args.room}", max_queue=None, compression=None, ping_interval=None
    )
    members = [await connect(args.b) for _ in range(args.subs)]
    readers = [asyncio.create_task(member(ws, i)) for i, ws in enumerate(members)]
    sender = await connect(args.a)

    async def drain():
        async for _ in sender:
            pass

    draining = asyncio.create_task(drain())

    # Warm-up: until a line reaches every member on B (the bridge has subscribed).
    n = 0
    while True:
        n += 1
        done[n] = asyncio.Event()
        await sender.send(f"warm t{n} {time.perf_counter_ns()}")
        try:
            await asyncio.wait_for(done[n].wait(), 0.5)
            break
        except asyncio.TimeoutError:
            continue
    latencies.clear()

    for _ in range(args.messages):
        n += 1
        done[n] = asyncio.Event()
        await sender.send(f"t{n} {time.perf_counter_ns()}")
        await asyncio.wait_for(done[n].wait(), 30)
    lat = sorted(latencies)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] / 1000  # noqa: E731
    line = (
        f"subs={args.subs} messages={len(lat)} p50={pick(0.50):.0f}us "
        f"p99={pick(0.99):.0f}us max={lat[-1] / 1000:.0f}us"
    )
    if args.burst:
        before = first_member_count[0]
        last = n + args.burst
        done[last] = asyncio.Event()
        started = time.perf_counter()
        for _ in range(args.burst):
            n += 1
            await sender.send(f"t{n} {time.perf_counter_ns()}")
        while first_member_count[0] < before + args.burst:
            await asyncio.sleep(0.001)
            if time.perf_counter() - started > 60:
                break
        took = time.perf_counter() - started
        got = first_member_count[0] - before
        line += f" burst={got}/{args.burst} in {took:.2f}s ({got / took:.0f} msg/s)"
    print(line, flush=True)
    for task in readers + [draining]:
        task.cancel()
    for ws in members + [sender]:
        await ws.close()


asyncio.run(main())
