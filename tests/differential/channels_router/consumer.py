"""The seed's example consumer (django-channels-router's README), with the routes of
examples/channels_router.rs.

Two deviations from the README, each working around a bug of the seed (1.0.3) that would
otherwise make every answer differ:
- the routes are a class attribute: the README's `@routes.setter` is never called, so its
  routes list stays empty and every route answers 404;
- results carry `"headers": None`: `receive_json` reads `result['headers']`, and a result
  without that key (as in the README) raises KeyError, answered 400.
"""

from django_channels_router import SocketRouterConsumer, StatusCodes

ARTICLES = {"1": "Answering later", "2": "Corked writes"}


class Article:
    def __init__(self, id, title):
        self.id = id
        self.title = title


def load_article(headers, payload):
    article_id = (headers or {}).get("id")
    title = ARTICLES.get(article_id) if isinstance(article_id, str) else None
    return Article(article_id, title) if title else None


def dehydrate(article):
    return {"id": article.id, "title": article.title}


class AppSocket(SocketRouterConsumer):
    _routes = [
        {"route": "sayHello"},
        {"route": "getArticle", "hydrate": load_article, "dehydrate": dehydrate},
    ]

    @SocketRouterConsumer.routes.setter
    def routes(self, routes):
        self._routes = routes

    def on_say_hello(self, payload, headers):
        name = (payload or {}).get("name", "World")
        return {"status": StatusCodes.OK, "payload": f"Hello, {name}!", "headers": None}

    def on_get_article(self, payload, headers):
        status = StatusCodes.OK if payload else StatusCodes.NOT_FOUND
        return {"status": status, "payload": payload, "headers": None}
