//! SocketAPI's channels and actions over real WebSockets: the seed's replies and error
//! texts, default responses, required and keyed subscribe parameters, pushes from actions and
//! from another thread reaching subscribers on two loops, and merged groups.

mod support;
mod ws_support;

use std::net::TcpStream;

use serde_json::{Value, json};
use support::serve;
use tungstenite::Message;
use tungstenite::protocol::WebSocket as Client;
use uweb::{App, ChannelOptions, ChannelPusher, Channels, Server};
use ws_support::{connect, next_text};

#[derive(serde::Deserialize)]
struct Note {
    message: Option<String>,
}

#[derive(serde::Deserialize)]
struct Chat {
    room_id: String,
    text: Option<String>,
}

#[derive(serde::Deserialize)]
struct Read {
    notification_id: u32,
}

/// The seed's notifications and chat examples, split in two groups merged with `include`.
fn app() -> (Server, ChannelPusher) {
    let notifications = Channels::new()
        .channel_with(
            "notifications",
            ChannelOptions::new().default_response(),
            |note: Note| json!({"message": note.message.unwrap_or("No new notifications".into())}),
        )
        .action("mark_as_read", |read: Read, _| {
            Ok::<_, String>(json!({"id": read.notification_id, "read": true}))
        })
        .action("nothing", |_: Value, _| Ok::<_, String>(json!({})));
    let chat = Channels::new()
        .channel_with(
            "chat_room",
            ChannelOptions::new().keyed_by("room_id"),
            |chat: Chat| json!({"room": chat.room_id, "text": chat.text}),
        )
        .action("send_message", |chat: Chat, channels: &ChannelPusher| {
            channels.push(
                "chat_room",
                json!({"room_id": chat.room_id, "text": chat.text}),
            )?;
            Ok::<_, String>(json!({"sent": true}))
        });
    let channels = notifications.include(chat);
    let app = App::new();
    let pusher = channels.pusher(app.publisher());
    let app = app
        .post("/_broadcast", pusher.clone().broadcast_handler())
        .channels("/", channels);
    (serve(app, 2), pusher)
}

fn ask(ws: &mut Client<TcpStream>, message: Value) -> Value {
    ws.send(Message::text(message.to_string())).unwrap();
    serde_json::from_str(&next_text(ws)).unwrap()
}

fn next(ws: &mut Client<TcpStream>) -> Value {
    serde_json::from_str(&next_text(ws)).unwrap()
}

#[test]
fn the_seeds_replies_and_errors() {
    let (server, _) = app();
    let (mut ws, _) = connect(server.local_addr(), "/");
    let err = |message: &str| json!({"type": "error", "message": message});
    assert_eq!(
        ask(&mut ws, json!({"channel": "x"})),
        err("Message type is required.")
    );
    assert_eq!(
        ask(&mut ws, json!({"type": "action"})),
        err("Channel is required.")
    );
    assert_eq!(
        ask(&mut ws, json!({"type": "poke", "channel": "x"})),
        err("Unknown message type: poke.")
    );
    assert_eq!(
        ask(&mut ws, json!({"type": "subscribe", "channel": "x"})),
        err("Channel 'x' not found.")
    );
    assert_eq!(
        ask(&mut ws, json!({"type": "action", "channel": "x"})),
        err("Action 'x' not found.")
    );
    let invalid = ask(
        &mut ws,
        json!({"type": "action", "channel": "mark_as_read", "data": {"notification_id": "one"}}),
    );
    assert_eq!(invalid["type"], "error");
    let text = invalid["message"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Invalid parameters for action 'mark_as_read': notification_id: invalid type"
        ),
        "{text}"
    );
    ws.send(Message::text("not json")).unwrap();
    assert_eq!(next(&mut ws)["type"], "error");
    assert_eq!(
        ask(
            &mut ws,
            json!({"type": "action", "channel": "mark_as_read", "data": {"notification_id": 7}})
        ),
        json!({"type": "action", "channel": "mark_as_read", "status": "completed", "data": {"id": 7, "read": true}})
    );
    // Empty data is left out, as the seed does.
    assert_eq!(
        ask(&mut ws, json!({"type": "action", "channel": "nothing"})),
        json!({"type": "action", "channel": "nothing", "status": "completed"})
    );
    // default_response: subscribed, then the data at once.
    assert_eq!(
        ask(
            &mut ws,
            json!({"type": "subscribe", "channel": "notifications"})
        ),
        json!({"type": "subscribed", "channel": "notifications"})
    );
    assert_eq!(
        next(&mut ws),
        json!({"type": "data", "channel": "notifications", "data": {"message": "No new notifications"}})
    );
    assert_eq!(
        ask(
            &mut ws,
            json!({"type": "unsubscribe", "channel": "notifications"})
        ),
        json!({"type": "unsubscribed", "channel": "notifications"})
    );
    // Keyed channels need their key on subscribe.
    let missing = ask(
        &mut ws,
        json!({"type": "subscribe", "channel": "chat_room"}),
    );
    assert_eq!(
        missing,
        err("Invalid parameters for action 'chat_room': missing field `room_id`")
    );
    server.shutdown();
}

#[test]
fn pushes_reach_subscribers_of_their_key_on_every_loop() {
    let (server, pusher) = app();
    let mut clients: Vec<Client<TcpStream>> = (0..4)
        .map(|_| connect(server.local_addr(), "/").0)
        .collect();
    for (i, ws) in clients.iter_mut().enumerate() {
        let room = if i % 2 == 0 { "blue" } else { "red" };
        let subscribed = ask(
            ws,
            json!({"type": "subscribe", "channel": "chat_room", "data": {"room_id": room}}),
        );
        assert_eq!(subscribed["type"], "subscribed");
    }
    // An action pushes to the blue room: the sender (subscribed to blue) gets both.
    let sent = ask(
        &mut clients[0],
        json!({"type": "action", "channel": "send_message", "data": {"room_id": "blue", "text": "hi"}}),
    );
    let push =
        json!({"type": "data", "channel": "chat_room", "data": {"room": "blue", "text": "hi"}});
    let mut first = [sent, next(&mut clients[0])];
    first.sort_by_key(|v| v["type"].as_str().unwrap().to_owned());
    assert_eq!(
        first[0],
        json!({"type": "action", "channel": "send_message", "status": "completed", "data": {"sent": true}})
    );
    assert_eq!(first[1], push);
    assert_eq!(next(&mut clients[2]), push);
    // From another thread, to the red room.
    let thread_pusher = pusher.clone();
    std::thread::spawn(move || {
        assert_eq!(
            thread_pusher.push(
                "chat_room",
                json!({"room_id": "red", "text": "from a thread"})
            ),
            Ok(true)
        );
    })
    .join()
    .unwrap();
    let red = json!({"type": "data", "channel": "chat_room", "data": {"room": "red", "text": "from a thread"}});
    assert_eq!(next(&mut clients[1]), red);
    assert_eq!(next(&mut clients[3]), red);
    // The blue clients got nothing more: their next message is the answer to a ping action.
    let done = json!({"type": "action", "channel": "nothing", "status": "completed"});
    assert_eq!(
        ask(
            &mut clients[2],
            json!({"type": "action", "channel": "nothing"})
        ),
        done
    );
    assert!(pusher.push("nowhere", json!({})).is_err());
    server.shutdown();
}

#[test]
fn the_local_broadcast_endpoint_pushes() {
    let (server, _) = app();
    let (mut ws, _) = connect(server.local_addr(), "/");
    let subscribed = ask(
        &mut ws,
        json!({"type": "subscribe", "channel": "chat_room", "data": {"room_id": "ops"}}),
    );
    assert_eq!(subscribed["type"], "subscribed");
    let post = |body: &str| {
        format!(
            "POST /_broadcast HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let ok = support::fetch(
        server.local_addr(),
        post(r#"{"channel":"chat_room","data":{"room_id":"ops","text":"deploy"}}"#),
    );
    assert_eq!((ok.status, ok.body_str()), (200, r#"{"status":"success"}"#));
    assert_eq!(
        next(&mut ws),
        json!({"type": "data", "channel": "chat_room", "data": {"room": "ops", "text": "deploy"}})
    );
    let unknown = support::fetch(server.local_addr(), post(r#"{"channel":"nope","data":{}}"#));
    assert_eq!(unknown.status, 400);
    assert!(unknown.body_str().contains("Channel 'nope' not found."));
    server.shutdown();
}
