//! websockets-routes' conveniences: route parameters reach WebSocket callbacks directly, and
//! an app may accept unmatched handshakes to close them at once with 4040.

mod support;
mod ws_support;

use support::{fetch, get, serve};
use tungstenite::Message;
use uweb::{App, OpCode, WebSocketBehavior};
use ws_support::{connect, handshake_request, next_message, next_text};

fn app() -> App {
    App::new()
        .ws::<()>(
            "/rooms/:room/seats/:seat",
            WebSocketBehavior::new()
                .open(|ws| {
                    let hello = format!(
                        "room {} seat {}",
                        ws.parameter("room").unwrap(),
                        ws.parameter(1).unwrap()
                    );
                    ws.send(hello, OpCode::Text);
                })
                .message(|ws, _msg, _opcode| {
                    let missing = ws.parameter("nope").is_none();
                    let room = ws.parameter(0).unwrap_or_default().to_owned();
                    ws.send(format!("{room} {missing}"), OpCode::Text);
                }),
        )
        .ws::<()>(
            "/plain",
            WebSocketBehavior::new().message(|ws, _msg, _opcode| {
                let none = ws.parameter(0).is_none();
                ws.send(format!("no params: {none}"), OpCode::Text);
            }),
        )
}

#[test]
fn route_parameters_reach_the_callbacks() {
    let server = serve(app(), 1);
    let (mut ws, _) = connect(server.local_addr(), "/rooms/blue/seats/7");
    assert_eq!(next_text(&mut ws), "room blue seat 7");
    ws.send(Message::text("x")).unwrap();
    assert_eq!(next_text(&mut ws), "blue true");
    let (mut plain, _) = connect(server.local_addr(), "/plain");
    plain.send(Message::text("x")).unwrap();
    assert_eq!(next_text(&mut plain), "no params: true");
    // A socket in the same slot after the first one left sees its own parameters.
    drop(ws);
    let (mut again, _) = connect(server.local_addr(), "/rooms/red/seats/1");
    assert_eq!(next_text(&mut again), "room red seat 1");
    server.shutdown();
}

#[test]
fn unmatched_handshakes_get_404_or_4040_when_asked() {
    let server = serve(app(), 1);
    assert_eq!(
        fetch(server.local_addr(), handshake_request("/nope", "")).status,
        404
    );
    server.shutdown();

    let server = serve(app().close_unmatched_websockets(4040), 1);
    let (mut ws, response) = connect(server.local_addr(), "/nope");
    assert_eq!(response.status(), 101);
    match next_message(&mut ws) {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4040),
        other => panic!("expected close 4040, got {other:?}"),
    }
    // Plain requests still get 404; matched routes are untouched.
    assert_eq!(fetch(server.local_addr(), get("/nope")).status, 404);
    let (mut ws, _) = connect(server.local_addr(), "/rooms/a/seats/b");
    assert_eq!(next_text(&mut ws), "room a seat b");
    server.shutdown();
}
