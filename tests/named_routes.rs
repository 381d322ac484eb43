//! django-channels-router's named routes over a real WebSocket: the seed's envelope for
//! answers, PING, unknown routes, malformed messages, typed payloads, hydrate/dehydrate, and
//! failures; the socket stays open through all of them.

mod support;
mod ws_support;

use serde_json::{Value, json};
use support::serve;
use tungstenite::Message;
use uweb::{App, Headers, NamedRoutes, Reply};
use ws_support::{connect, next_text};

#[derive(serde::Deserialize)]
struct Order {
    item: String,
    quantity: u32,
}

fn routes() -> NamedRoutes {
    NamedRoutes::new()
        .route("sayHello", |name: Option<String>, _: &Headers| {
            Reply::ok(format!(
                "Hello, {}!",
                name.unwrap_or_else(|| "World".into())
            ))
        })
        .route("order", |order: Order, headers: &Headers| {
            let who = headers
                .get("user")
                .and_then(Value::as_str)
                .unwrap_or("nobody");
            Reply::with_status(
                201,
                json!({"total": order.quantity * 2, "item": order.item}),
            )
            .header("placed-by", who)
        })
        .route_with(
            "double",
            |_: &Headers, n: i64| n * 2,
            |n: i64, _: &Headers| match n {
                0 => Reply::with_status(404, json!("nothing")),
                n => Reply::ok(json!(n)),
            },
            |n: Value| json!({"doubled": n}),
        )
        .route("boom", |_: Value, _: &Headers| -> Reply<()> {
            panic!("kaboom")
        })
        .route("refuse", |_: Value, _: &Headers| {
            Err::<Reply<()>, _>("not today")
        })
}

fn ask(ws: &mut tungstenite::WebSocket<std::net::TcpStream>, message: Value) -> Value {
    ws.send(Message::text(message.to_string())).unwrap();
    serde_json::from_str(&next_text(ws)).unwrap()
}

#[test]
fn the_seeds_conversation() {
    let server = serve(App::new().named_routes("/ws/app/", routes()), 2);
    let (mut ws, _) = connect(server.local_addr(), "/ws/app/");
    let reply = |status: u16, uuid: &str, route: &str, headers: Value, payload: Value| json!({"uuid": uuid, "route": route, "headers": headers, "payload": payload, "status": status});
    assert_eq!(
        ask(
            &mut ws,
            json!({"uuid": "a", "route": "sayHello", "payload": "Ada"})
        ),
        reply(200, "a", "sayHello", Value::Null, json!("Hello, Ada!"))
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "b", "route": "sayHello"})),
        reply(200, "b", "sayHello", Value::Null, json!("Hello, World!"))
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "c", "route": "PING"})),
        reply(200, "c", "PING", Value::Null, Value::Null)
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "d", "route": "nowhere"})),
        reply(404, "d", "nowhere", Value::Null, Value::Null)
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": 5, "route": "sayHello"})),
        json!({"uuid": 5, "route": "sayHello", "headers": null, "payload": null, "status": 400}),
        "a uuid that is not a string: 400, echoed as sent (the seed's KeyError branch)"
    );
    assert_eq!(ask(&mut ws, json!({"route": "sayHello"}))["status"], 400);
    assert_eq!(
        ask(
            &mut ws,
            json!({"uuid": "e", "route": "order", "headers": {"user": "bo"}, "payload": {"item": "tea", "quantity": 3}})
        ),
        reply(
            201,
            "e",
            "order",
            json!({"placed-by": "bo"}),
            json!({"total": 6, "item": "tea"})
        )
    );
    let bad = ask(
        &mut ws,
        json!({"uuid": "f", "route": "order", "payload": {"item": "tea"}}),
    );
    assert_eq!(bad["status"], 400);
    assert_eq!(
        bad["payload"]["Error"],
        "invalid payload: missing field `quantity`"
    );
    let nested = ask(
        &mut ws,
        json!({"uuid": "g", "route": "order", "payload": {"item": 1, "quantity": 1}}),
    );
    assert!(
        nested["payload"]["Error"]
            .as_str()
            .unwrap()
            .starts_with("invalid payload: item: invalid type"),
        "{nested}"
    );
    assert_eq!(
        ask(
            &mut ws,
            json!({"uuid": "h", "route": "double", "payload": 21})
        ),
        reply(200, "h", "double", Value::Null, json!({"doubled": 42}))
    );
    assert_eq!(
        ask(
            &mut ws,
            json!({"uuid": "i", "route": "double", "payload": 0})
        ),
        reply(404, "i", "double", Value::Null, json!("nothing")),
        "dehydrate only for 2xx"
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "j", "route": "boom"})),
        reply(500, "j", "boom", Value::Null, json!({"Error": "kaboom"}))
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "k", "route": "refuse"})),
        reply(
            500,
            "k",
            "refuse",
            Value::Null,
            json!({"Error": "not today"})
        )
    );
    ws.send(Message::text("not json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&next_text(&mut ws)).unwrap()["status"],
        400
    );
    // Still open after all of it.
    assert_eq!(
        ask(&mut ws, json!({"uuid": "z", "route": "PING"}))["status"],
        200
    );
    server.shutdown();
}

/// Async routes (feature `tokio`): a route waiting on something does not hold back the
/// socket's later requests, and its reply still arrives with its uuid; errors, panics and bad
/// payloads are answered as for sync routes.
#[cfg(feature = "tokio")]
#[test]
fn async_routes_answer_when_their_futures_finish() {
    use std::sync::Arc;
    use tokio::sync::Notify;

    let gate = Arc::new(Notify::new());
    let opened = gate.clone();
    let routes = NamedRoutes::new()
        .route_async("wait", move |n: u32, headers: Headers| {
            let gate = gate.clone();
            async move {
                gate.notified().await;
                Reply::with_status(201, json!({"n": n, "seen": headers.get("who")}))
                    .header("late", true)
            }
        })
        .route("open", move |_: Value, _: &Headers| {
            opened.notify_one();
            Reply::ok(json!("opened"))
        })
        .route_async("refuse", |_: Value, _: Headers| async {
            Err::<Reply<()>, _>("not today")
        })
        .route_async("boom", |_: Value, _: Headers| async {
            if true {
                panic!("async kaboom");
            }
            Reply::ok(())
        });
    let server = serve(App::new().named_routes("/ws/app/", routes), 2);
    let (mut ws, _) = connect(server.local_addr(), "/ws/app/");
    let send = |ws: &mut tungstenite::WebSocket<std::net::TcpStream>, message: Value| {
        ws.send(Message::text(message.to_string())).unwrap();
    };
    send(
        &mut ws,
        json!({"uuid": "1", "route": "wait", "payload": 7, "headers": {"who": "ada"}}),
    );
    // The waiting route's reply cannot come first: only this later request opens its gate.
    assert_eq!(
        ask(&mut ws, json!({"uuid": "2", "route": "open"}))["uuid"],
        "2"
    );
    let late: Value = serde_json::from_str(&next_text(&mut ws)).unwrap();
    assert_eq!(
        late,
        json!({"uuid": "1", "route": "wait", "headers": {"late": true},
               "payload": {"n": 7, "seen": "ada"}, "status": 201})
    );
    assert_eq!(
        ask(&mut ws, json!({"uuid": "3", "route": "refuse"}))["payload"],
        json!({"Error": "not today"})
    );
    let boom = ask(&mut ws, json!({"uuid": "4", "route": "boom"}));
    assert_eq!(
        (boom["status"].clone(), boom["payload"].clone()),
        (json!(500), json!({"Error": "async kaboom"}))
    );
    let bad = ask(
        &mut ws,
        json!({"uuid": "5", "route": "wait", "payload": "x"}),
    );
    assert_eq!(bad["status"], 400, "{bad}");
    assert_eq!(
        ask(&mut ws, json!({"uuid": "6", "route": "PING"}))["status"],
        200
    );
    server.shutdown();
}
