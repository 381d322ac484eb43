"""The seed: a Starlette `WebSocketEndpoint` with `encoding = "json"` (Starlette's
endpoints documentation), mirroring examples/ws_endpoint.rs, served by uvicorn for the
differential test."""

from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.routing import WebSocketRoute


class Echo(WebSocketEndpoint):
    encoding = "json"

    async def on_connect(self, websocket):
        self.count = 0
        await websocket.accept()

    async def on_receive(self, websocket, data):
        self.count += 1
        await websocket.send_json({"echo": data["text"], "count": self.count})


app = Starlette(routes=[WebSocketRoute("/ws", Echo)])
