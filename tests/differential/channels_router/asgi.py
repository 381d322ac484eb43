"""ASGI entry: the consumer on ws/app/, with a `user` in the scope (the seed's `connect`
reads `scope['user']`; no auth is involved in the test)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels_router.settings")

import django  # noqa: E402

django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from .consumer import AppSocket  # noqa: E402


class AnonymousScope:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        return await self.inner(dict(scope, user=None), receive, send)


application = ProtocolTypeRouter(
    {"websocket": AnonymousScope(URLRouter([re_path(r"ws/app/$", AppSocket.as_asgi())]))}
)
