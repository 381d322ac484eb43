//! Whole-connection tests of the sans-IO WebSocket state machine with byte literals.

use super::*;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A masked client frame: first byte (FIN|RSV|opcode) and payload.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    let mut body = payload.to_vec();
    codec::unmask(&mut body, MASK, 0);
    out.extend_from_slice(&body);
    out
}

fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(0x88, &payload)
}

#[derive(Debug, PartialEq, Eq)]
enum Ev {
    Msg(Vec<u8>, OpCode),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    Fail(u16),
}

fn own(event: Event<'_>) -> Ev {
    match event {
        Event::Message(p, op) => Ev::Msg(p.to_vec(), op),
        Event::Ping(p) => Ev::Ping(p.to_vec()),
        Event::Pong(p) => Ev::Pong(p.to_vec()),
        Event::Close(code, reason) => Ev::Close(code, reason.to_owned()),
        Event::Fail(code) => Ev::Fail(code),
    }
}

/// Feeds `bytes` in pieces of `chunk` bytes, keeping unused bytes as the event loop does.
fn run_in(conn: &mut WsConn, bytes: &[u8], chunk: usize, max: usize) -> (Vec<Ev>, Vec<u8>) {
    let (mut events, mut out, mut stash) = (Vec::new(), Vec::new(), Vec::new());
    for piece in bytes.chunks(chunk.max(1)) {
        stash.extend_from_slice(piece);
        loop {
            let len = stash.len();
            let (used, event) = conn.next(&mut stash, &mut out, max);
            assert!(used <= len);
            let event = event.map(own);
            stash.drain(..used);
            match event {
                Some(e) => events.push(e),
                None => break,
            }
        }
    }
    (events, out)
}

fn run(bytes: &[u8]) -> (Vec<Ev>, Vec<u8>) {
    run_in(&mut WsConn::new(), bytes, bytes.len(), 1 << 20)
}

/// Every split of the input gives the same events and output as the whole.
fn run_all_splits(bytes: &[u8]) -> (Vec<Ev>, Vec<u8>) {
    let whole = run(bytes);
    for chunk in 1..bytes.len().min(40) {
        let split = run_in(&mut WsConn::new(), bytes, chunk, 1 << 20);
        assert_eq!(split, whole, "chunk {chunk}");
    }
    whole
}

fn server_close(code: u16) -> Vec<u8> {
    let mut out = vec![0x88, 0x02];
    out.extend_from_slice(&code.to_be_bytes());
    out
}

#[test]
fn single_frame_text_is_borrowed_and_unmasked() {
    let mut bytes = frame(0x81, b"Hello");
    let mut out = Vec::new();
    let mut conn = WsConn::new();
    let (used, event) = conn.next(&mut bytes, &mut out, 100);
    assert_eq!(used, 11);
    assert!(matches!(
        event,
        Some(Event::Message(Payload::Borrowed(b"Hello"), OpCode::Text))
    ));
    assert!(out.is_empty());
}

#[test]
fn fragments_with_interleaved_ping_reassemble() {
    let mut bytes = frame(0x01, b"Hel");
    bytes.extend(frame(0x89, b"p"));
    bytes.extend(frame(0x00, b""));
    bytes.extend(frame(0x80, b"lo"));
    bytes.extend(frame(0x82, &[0, 1, 2]));
    let (events, out) = run_all_splits(&bytes);
    assert_eq!(
        events,
        [
            Ev::Ping(b"p".to_vec()),
            Ev::Msg(b"Hello".to_vec(), OpCode::Text),
            Ev::Msg(vec![0, 1, 2], OpCode::Binary),
        ]
    );
    assert_eq!(out, [0x8a, 0x01, b'p']);
}

#[test]
fn large_frames_over_many_reads() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    let bytes = frame(0x82, &payload);
    let (events, _) = run_in(&mut WsConn::new(), &bytes, 1000, 1 << 20);
    assert_eq!(events, [Ev::Msg(payload, OpCode::Binary)]);
}

#[test]
fn protocol_errors_close_with_1002() {
    let unmasked = vec![0x81, 0x01, b'a'];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unmasked", unmasked),
        ("rsv1", frame(0xc1, b"a")),
        ("rsv3", frame(0x91, b"a")),
        ("reserved data opcode", frame(0x83, b"")),
        ("reserved control opcode", frame(0x8b, b"")),
        ("fragmented ping", frame(0x09, b"")),
        ("ping over 125", frame(0x89, &[0; 126])),
        ("continuation first", frame(0x80, b"a")),
        (
            "text inside fragments",
            [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
        ),
        ("close with 1 byte", frame(0x88, &[3])),
        ("close code 999", close_frame(999, b"")),
        ("close code 1005", close_frame(1005, b"")),
        ("close code 1016", close_frame(1016, b"")),
        ("close code 5000", close_frame(5000, b"")),
    ];
    for (name, bytes) in cases {
        let (events, out) = run_all_splits(&bytes);
        assert_eq!(events, [Ev::Fail(1002)], "{name}");
        assert_eq!(out, server_close(1002), "{name}");
    }
}

#[test]
fn invalid_utf8_closes_with_1007_as_soon_as_it_arrives() {
    let (events, out) = run(&frame(0x81, b"\xce\xba\xff"));
    assert_eq!((events, out), (vec![Ev::Fail(1007)], server_close(1007)));
    let (events, _) = run(&close_frame(1000, b"\xff"));
    assert_eq!(events, [Ev::Fail(1007)]);
    // A long text frame whose bad byte is at the front fails before the rest arrives.
    let mut payload = b"\xf4\x90\x80\x80".to_vec();
    payload.extend(std::iter::repeat_n(b'a', 1000));
    let bytes = frame(0x81, &payload);
    let mut conn = WsConn::new();
    let mut head = bytes[..20].to_vec();
    let (_, event) = conn.next(&mut head, &mut Vec::new(), 1 << 20);
    assert!(matches!(event, Some(Event::Fail(1007))));
    // Split characters across fragments are fine.
    let text = "κόσμε".as_bytes();
    let bytes = [frame(0x01, &text[..1]), frame(0x80, &text[1..])].concat();
    assert_eq!(
        run_all_splits(&bytes).0,
        [Ev::Msg(text.to_vec(), OpCode::Text)]
    );
    let bytes = [frame(0x01, &text[..1]), frame(0x80, b"")].concat();
    assert_eq!(run(&bytes).0, [Ev::Fail(1007)]);
}

#[test]
fn oversized_messages_close_with_1009_before_the_payload() {
    let mut conn = WsConn::new();
    let mut head = frame(0x82, &[0; 200])[..8].to_vec();
    let mut out = Vec::new();
    let (_, event) = conn.next(&mut head, &mut out, 100);
    assert!(matches!(event, Some(Event::Fail(1009))));
    assert_eq!(out, server_close(1009));
    // The limit counts the whole fragmented message.
    let bytes = [frame(0x02, &[0; 60]), frame(0x80, &[0; 60])].concat();
    let (events, _) = run_in(&mut WsConn::new(), &bytes, bytes.len(), 100);
    assert_eq!(events, [Ev::Fail(1009)]);
    let (events, _) = run_in(&mut WsConn::new(), &bytes, bytes.len(), 120);
    assert_eq!(events, [Ev::Msg(vec![0; 120], OpCode::Binary)]);
}

#[test]
fn peer_close_is_echoed_with_its_code() {
    let (events, out) = run_all_splits(&close_frame(4000, b"bye"));
    assert_eq!(events, [Ev::Close(4000, "bye".into())]);
    assert_eq!(out, server_close(4000));
    let (events, out) = run(&frame(0x88, b""));
    assert_eq!(events, [Ev::Close(NO_STATUS, String::new())]);
    assert_eq!(out, [0x88, 0x00]);
    // Nothing after the close is read.
    let bytes = [close_frame(1000, b""), frame(0x81, b"late")].concat();
    assert_eq!(run(&bytes).0, [Ev::Close(1000, String::new())]);
}

#[test]
fn after_our_close_data_is_dropped_until_the_peer_closes() {
    let mut conn = WsConn::new();
    let mut out = Vec::new();
    assert!(conn.end(&mut out, 1001, "going"));
    assert_eq!(&out[..4], &[0x88, 0x07, 0x03, 0xe9]);
    assert!(!conn.send(&mut out, b"x", OpCode::Text));
    let bytes = [
        frame(0x01, b"ab"),
        frame(0x80, b"c"),
        frame(0x89, b""),
        close_frame(1001, b""),
    ]
    .concat();
    let (events, out) = run_in(&mut conn, &bytes, 3, 100);
    assert_eq!(events, [Ev::Ping(vec![]), Ev::Close(1001, String::new())]);
    assert!(out.is_empty(), "no pong and no second close after ours");
    assert_eq!(conn.close_state(), CloseState::Done);
}

#[test]
fn end_with_a_reserved_code_sends_no_code() {
    let mut conn = WsConn::new();
    let mut out = Vec::new();
    conn.end(&mut out, 1006, "x");
    assert_eq!(out, [0x88, 0x00]);
}

#[test]
fn no_buffer_is_kept_between_messages() {
    let mut conn = WsConn::new();
    let bytes = [frame(0x01, b"a"), frame(0x80, b"b")].concat();
    run_in(&mut conn, &bytes, 1, 100);
    assert_eq!(conn.message.capacity(), 0);
    assert!(conn.kind.is_none() && conn.partial.is_none());
}

#[test]
fn our_close_in_the_middle_of_a_text_message_drops_the_rest_without_checking_it() {
    // "hé" opened a text message; our close frame goes out before its continuation (from
    // a ping callback, max_lifetime or shutdown). The continuation is dropped, unchecked.
    let mut conn = WsConn::new();
    let mut out = Vec::new();
    let (events, _) = run_in(&mut conn, &frame(0x01, "hé".as_bytes()), 64, 1 << 20);
    assert!(events.is_empty());
    assert!(conn.end(&mut out, 1001, ""));
    let mut rest = frame(0x80, "llo wörld".as_bytes());
    rest.extend(close_frame(1001, b""));
    let (events, _) = run_in(&mut conn, &rest, 3, 1 << 20);
    assert_eq!(events, [Ev::Close(1001, String::new())]);
}
