"""The cluster chat of examples/cluster_chat.rs on Django Channels with channels_redis, for
benches/bridge_vs_channels.sh: `ws /chat/<room>` joins the room's group; every text message is
sent to the group (every node's members, through Redis) as "<name>: <text>".

Run (one node): REDIS_URL=redis://127.0.0.1:6379/ uvicorn chat:application --port 3000
(with this directory as the working directory, or on PYTHONPATH).
"""

import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        "default": {
            # channels_redis's documented default layer.
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/")]},
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Chat(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.name = f"guest-{self.scope['client'][1]}"
        await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.room, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.channel_layer.group_send(
                self.room, {"type": "chat.line", "text": f"{self.name}: {text_data}"}
            )

    async def chat_line(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("chat/<str:room>", Chat.as_asgi())])}
)
