//! Async handlers on tokio (feature `tokio`): answers after `tokio::time::sleep`, many
//! concurrent requests on one loop, bodies awaited as bytes, text and JSON, `Err` and panics
//! to the error handler, the app's own runtime entered by the loops, and WebSocket messages
//! handled by async functions.

mod support;
mod ws_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use support::{Client, Log, get, serve};
use tungstenite::Message;
use uweb::{App, IntoResponse, Json, Response, WebSocketBehavior};
use ws_support::{connect, next_message, next_text};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Item {
    name: String,
    count: u32,
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn answers_after_a_timer_and_the_loop_keeps_serving_meanwhile() {
    let server = serve(
        App::new()
            .get_async("/slow/:id", |req| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                format!("slow {}", req.parameter("id").unwrap_or_default())
            })
            .get("/fast", |res, _req| res.end("fast")),
        1,
    );
    let mut slow = Client::connect(server.local_addr());
    slow.send(get("/slow/7"));
    // While the slow one waits on its timer, the loop answers others.
    let fast = Client::connect(server.local_addr()).request(get("/fast"));
    assert_eq!(fast.body_str(), "fast");
    let resp = slow.response();
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.body_str(), "slow 7");
    server.shutdown();
}

/// Futures that wait are spawned together, per loop iteration; each still completes on its
/// own: the quick ones are answered while the gated ones (sent first, likely in the same
/// batch) wait for a request that comes only after.
#[test]
fn a_future_that_waits_does_not_hold_back_the_others_spawned_with_it() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (wait, open) = (Arc::clone(&gate), gate);
    let server = serve(
        App::new()
            .get_async("/gated/:n", move |req| {
                let gate = Arc::clone(&wait);
                async move {
                    let _permit = gate.acquire().await.expect("gate open");
                    format!("gated {}", req.parameter("n").unwrap_or_default())
                }
            })
            .get_async("/quick/:n", |req| async move {
                tokio::task::yield_now().await;
                format!("quick {}", req.parameter("n").unwrap_or_default())
            })
            .get("/open", move |res, _req| {
                open.add_permits(10);
                res.end("open");
            }),
        1,
    );
    let connect = |path: String| {
        let mut client = Client::connect(server.local_addr());
        client.send(get(&path));
        client
    };
    let mut gated: Vec<Client> = (0..10).map(|n| connect(format!("/gated/{n}"))).collect();
    let mut quick: Vec<Client> = (0..10).map(|n| connect(format!("/quick/{n}"))).collect();
    for (n, client) in quick.iter_mut().enumerate() {
        assert_eq!(client.response().body_str(), format!("quick {n}"));
    }
    let opened = Client::connect(server.local_addr()).request(get("/open"));
    assert_eq!(opened.body_str(), "open");
    for (n, client) in gated.iter_mut().enumerate() {
        assert_eq!(client.response().body_str(), format!("gated {n}"));
    }
    server.shutdown();
}

#[test]
fn two_hundred_concurrent_requests_wait_together_not_in_turn() {
    let server = serve(
        App::new().get_async("/users/:id", |req| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Json(Item {
                name: req.parameter("id").unwrap_or_default().to_owned(),
                count: 1,
            })
        }),
        1,
    );
    let started = Instant::now();
    let mut clients: Vec<Client> = (0..200)
        .map(|i| {
            let mut client = Client::connect(server.local_addr());
            client.send(get(&format!("/users/{i}")));
            client
        })
        .collect();
    for (i, client) in clients.iter_mut().enumerate() {
        let resp = client.response();
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let item: Item = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(item.name, i.to_string());
    }
    // 200 x 100 ms in turn would be 20 s; together they take about one timer. The bound is
    // generous for a loaded machine, far under the serial time.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    eprintln!("200 concurrent 100 ms async requests on one loop: {took:?}");
    server.shutdown();
}

#[test]
fn bodies_as_bytes_text_and_json() {
    let server = serve(
        App::new()
            .post_async("/len", |mut req| async move {
                let body = req.body().await?;
                let again = req.body().await?;
                assert_eq!(body, again);
                Ok::<_, uweb::BodyError>(format!("{} bytes", body.len()))
            })
            .post_async("/upper", |mut req| async move {
                req.text().await.map(|t| t.to_uppercase())
            })
            .post_async("/strict", |mut req| async move {
                let item: Item = req.json().await?;
                Ok::<_, uweb::BodyError>(Json(item))
            })
            .post_async("/items", |mut req| async move {
                match req.json::<Item>().await {
                    Ok(mut item) => {
                        item.count += 1;
                        (201, Json(item)).into_response()
                    }
                    Err(e) => Response::new(e.to_string()).status(400),
                }
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.request(post("/len", "abcdef")).body_str(), "6 bytes");
    assert_eq!(client.request(post("/upper", "shout")).body_str(), "SHOUT");
    let created = client.request(post("/items", r#"{"name":"tea","count":2}"#));
    assert_eq!(created.status, 201);
    let item: Item = serde_json::from_slice(&created.body).unwrap();
    assert_eq!(
        item,
        Item {
            name: "tea".into(),
            count: 3
        }
    );
    // A body error returned with `?` is the client's: 400 with its message.
    let strict = client.request(post("/strict", r#"{"name":"tea"}"#));
    assert_eq!(strict.status, 400);
    assert!(
        strict.body_str().contains("missing field `count`"),
        "{}",
        strict.body_str()
    );
    let bad = client.request(post("/items", "{"));
    assert_eq!(bad.status, 400);
    assert!(
        bad.body_str().starts_with("invalid JSON"),
        "{}",
        bad.body_str()
    );
    server.shutdown();
}

#[test]
fn errors_and_panics_go_to_the_error_handler() {
    let log = Log::default();
    let heard = log.clone();
    let server = serve(
        App::new()
            .get_async("/err", |_req| async { Err::<&str, _>("no such user") })
            .get_async("/panic", |_req| async {
                if std::hint::black_box(true) {
                    panic!("async boom");
                }
                "unreachable"
            })
            .on_error(move |error, res, _req| {
                heard.push(error.to_string());
                if let Some(res) = res {
                    res.write_status("503 Service Unavailable").end("sorry");
                }
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let err = client.request(get("/err"));
    assert_eq!((err.status, err.body_str()), (503, "sorry"));
    let panic = client.request(get("/panic"));
    assert_eq!((panic.status, panic.body_str()), (503, "sorry"));
    let heard = log.take();
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert!(heard[0].contains("no such user"), "{heard:?}");
    assert!(heard[1].contains("async boom"), "{heard:?}");
    server.shutdown();
}

#[test]
fn the_apps_runtime_is_entered_by_the_loops() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("app-runtime")
        .enable_all()
        .build()
        .unwrap();
    let server = serve(
        App::new()
            .runtime(runtime.handle().clone())
            // Ready at the first poll: answered on the loop thread, like a synchronous handler.
            .get_async("/at-once", |_req| async {
                std::thread::current().name().unwrap_or_default().to_owned()
            })
            // Once it waits, the future is the runtime's.
            .get_async("/where", |_req| async {
                tokio::task::yield_now().await;
                std::thread::current().name().unwrap_or_default().to_owned()
            })
            .get("/spawn", |res, _req| {
                // `tokio::spawn` works in a synchronous handler: the loop entered the runtime.
                let later = res.defer();
                tokio::spawn(async move {
                    later.end(std::thread::current().name().unwrap_or_default().to_owned());
                });
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.request(get("/at-once")).body_str(), "uweb-loop-0");
    assert_eq!(client.request(get("/where")).body_str(), "app-runtime");
    assert_eq!(client.request(get("/spawn")).body_str(), "app-runtime");
    server.shutdown();
    drop(runtime);
}

#[test]
fn websocket_messages_handled_by_async_functions() {
    let panics = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&panics);
    let order = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&order);
    let server = serve(
        App::new()
            .ws::<()>(
                "/ws",
                WebSocketBehavior::new().message_async(move |ws, message, opcode| {
                    let seen = Arc::clone(&seen);
                    async move {
                        if &message[..] == b"panic" {
                            panic!("async message boom");
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        seen.lock().unwrap().push(message.clone());
                        ws.send(message, opcode);
                    }
                }),
            )
            .on_error(move |_error, _res, _req| {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
        1,
    );
    let (mut client, _) = connect(server.local_addr(), "/ws");
    client.send(Message::text("one")).unwrap();
    assert_eq!(next_text(&mut client), "one");
    client.send(Message::binary(vec![1u8, 2])).unwrap();
    assert_eq!(next_message(&mut client), Message::binary(vec![1u8, 2]));
    client.send(Message::text("panic")).unwrap();
    match next_message(&mut client) {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1011),
        other => panic!("expected close 1011, got {other:?}"),
    }
    assert_eq!(panics.load(Ordering::SeqCst), 1);
    assert_eq!(order.lock().unwrap().len(), 2);
    server.shutdown();
}
