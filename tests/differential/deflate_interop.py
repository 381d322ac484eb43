"""permessage-deflate (RFC 7692) interop: the Python `websockets` and `aiohttp` clients, each with
its own deflate implementation (zlib), talk to an echo server and must get every message back
byte for byte, with the extension negotiated as expected.

    python deflate_interop.py ws://127.0.0.1:PORT/ MODE

MODE is `shared` (uweb's default: server_no_context_takeover, the client may keep its context),
`dedicated` (both sides keep their context), `dedicated_3kb` (both keep 512-byte windows) or
`reference` (the `websockets` package's own
server, which run.sh starts as the baseline the same script must pass against).

Prints one line per check and exits 1 on the first mismatch.
"""

import asyncio
import json
import random
import sys

import aiohttp
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory


def messages():
    """Small, JSON-like, large compressible, large incompressible, binary, empty."""
    rng = random.Random(7692)
    chat = json.dumps(
        [{"user": f"user{i}", "room": "lobby", "text": "hello " * (i % 7)} for i in range(60)]
    )
    return [
        ("16 B text", "0123456789abcdef"),
        ("4 KiB JSON", chat[:4096]),
        ("1 MiB text", (chat * 300)[: 1 << 20]),
        ("1 MiB random binary", rng.randbytes(1 << 20)),
        ("64 KiB binary zeros", bytes(64 << 10)),
        ("empty text", ""),
    ]


def fail(what):
    print(f"FAIL {what}")
    sys.exit(1)


def check_extension(header, mode, label):
    if not header or "permessage-deflate" not in header:
        fail(f"{label}: permessage-deflate not negotiated (Sec-WebSocket-Extensions: {header!r})")
    if mode == "shared" and "server_no_context_takeover" not in header:
        fail(f"{label}: shared mode must answer server_no_context_takeover, got {header!r}")
    if mode.startswith("dedicated") and "server_no_context_takeover" in header:
        fail(f"{label}: dedicated mode keeps its context, got {header!r}")
    if mode == "dedicated_3kb" and "server_max_window_bits=9" not in header:
        fail(f"{label}: the 3 KB compressor announces its 512-byte window, got {header!r}")
    print(f"ok {label}: negotiated {header}")


async def echo_all(send, receive, label):
    # Twice over, so context takeover (a second message referring to the first) is exercised.
    for round_ in (1, 2):
        for name, message in messages():
            await send(message)
            reply = await receive()
            if reply != message:
                got = len(reply) if isinstance(reply, (bytes, str)) else reply
                fail(f"{label} round {round_}: {name} came back different ({got})")
    print(f"ok {label}: {len(messages())} messages echoed twice")


async def with_websockets(url, mode, label, factory):
    async with connect(url, extensions=[factory], max_size=None) as ws:
        check_extension(ws.response.headers.get("Sec-WebSocket-Extensions"), mode, label)
        await echo_all(ws.send, ws.recv, label)


async def with_aiohttp(url, mode):
    label = "aiohttp client (compress=15)"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, compress=15, max_msg_size=0) as ws:
            check_extension(ws._response.headers.get("Sec-WebSocket-Extensions"), mode, label)

            async def send(message):
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_str(message)

            async def receive():
                reply = await ws.receive()
                if reply.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    fail(f"{label}: got {reply.type} instead of a message")
                return reply.data

            await echo_all(send, receive, label)


async def main(url, mode):
    await with_websockets(
        url, mode, "websockets client (defaults)", ClientPerMessageDeflateFactory()
    )
    await with_websockets(
        url,
        mode,
        "websockets client (client_max_window_bits=10, no client context takeover)",
        ClientPerMessageDeflateFactory(client_max_window_bits=10, client_no_context_takeover=True),
    )
    await with_aiohttp(url, mode)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
