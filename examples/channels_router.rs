//! django-channels-router's example consumer in Rust, on WebSocket `/ws/app/`: named routes
//! answered with the seed's envelope `{"uuid", "route", "headers", "payload", "status"}`.
//!
//! - `sayHello`: `200` with `"Hello, <payload.name or World>!"`;
//! - `getArticle`: hydrates the article named by `headers.id` (`404` with a null payload
//!   when unknown) and dehydrates it to `{"id", "title"}`;
//! - `PING`: the heartbeat, `200`.
//!
//! Run: `PORT=3000 cargo run --example channels_router`, then send
//! `{"uuid":"1","route":"sayHello","payload":{"name":"Ada"}}` to `ws://localhost:3000/ws/app/`.

mod common;

use serde::{Deserialize, Serialize};
use uweb::{App, Headers, NamedRoutes, Reply};

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

/// A stored article (the seed loads it from the database). A reply's payload is sent as is
/// unless the status is 2xx (then `dehydrate` shapes it), so it must be serializable too.
#[derive(Serialize)]
struct Article {
    id: String,
    title: String,
}

/// The seed's `load_article(headers, payload)`: the article whose id is `headers.id`.
fn load_article(headers: &Headers, _payload: serde_json::Value) -> Option<Article> {
    let id = headers.get("id")?.as_str()?;
    let title = match id {
        "1" => "Answering later",
        "2" => "Corked writes",
        _ => return None,
    };
    Some(Article {
        id: id.to_owned(),
        title: title.to_owned(),
    })
}

fn routes() -> NamedRoutes {
    NamedRoutes::new()
        .route("sayHello", |hello: Option<Hello>, _headers: &Headers| {
            let name = hello.and_then(|h| h.name).unwrap_or_else(|| "World".into());
            Reply::ok(format!("Hello, {name}!"))
        })
        .route_with(
            "getArticle",
            load_article,
            |article: Option<Article>, _headers: &Headers| match article {
                Some(article) => Reply::ok(Some(article)),
                None => Reply::with_status(404, None),
            },
            // Only for 2xx replies, as the seed's `dehydrate`.
            |article: Option<Article>| {
                article.map(|a| serde_json::json!({"id": a.id, "title": a.title}))
            },
        )
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    println!("listening on ws://localhost:{port}/ws/app/ with {threads} loop(s)");
    App::new()
        .threads(threads)
        .named_routes("/ws/app/", routes())
        .listen(port)
}
