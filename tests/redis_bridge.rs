//! Pub/sub across processes through Redis (feature `redis`): two apps in this process, each
//! with its own `RedisBridge` (its own origin id, as two machines would have), one
//! `redis-server` started here on a free loopback port. Real WebSocket clients (tungstenite) on
//! both nodes; the broker checked with `PUBSUB`.

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::wait_until;
use tungstenite::{Message, WebSocket};
use uweb::{App, OpCode, Publisher, RedisBridge, Server, WebSocketBehavior};

type Client = WebSocket<TcpStream>;

/// A `redis-server` on a free loopback port, killed on drop.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Redis::start_on(port)
    }

    fn start_on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let redis = Redis { port, child };
        wait_until("redis-server to accept", || redis.connection().is_ok());
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection()
    }

    /// Subscribers Redis counts on `channel`.
    fn numsub(&self, channel: &str) -> i64 {
        let Ok(mut c) = self.connection() else {
            return -1;
        };
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut c)
            .unwrap_or_default();
        counts.first().map_or(0, |(_, n)| *n)
    }

    /// Connections Redis has open, the asking one included.
    fn clients(&self) -> i64 {
        let Ok(mut c) = self.connection() else {
            return -1;
        };
        let info: String = redis::cmd("INFO")
            .arg("clients")
            .query(&mut c)
            .unwrap_or_default();
        info.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(-1)
    }

    fn channels(&self) -> Vec<String> {
        let mut c = self.connection().unwrap();
        redis::cmd("PUBSUB").arg("CHANNELS").query(&mut c).unwrap()
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node: `ws /topic/:name` subscribes to `name` and publishes what it receives there.
fn node(bridge: RedisBridge) -> (Server, Publisher) {
    let app = App::new().pubsub_bridge(bridge).ws::<()>(
        "/topic/:name",
        WebSocketBehavior::new()
            .open(|ws| {
                let topic = ws.parameter("name").unwrap_or_default().to_owned();
                ws.subscribe(&topic);
            })
            .message(|ws, message, opcode| {
                let topic = ws.parameter("name").unwrap_or_default().to_owned();
                ws.publish(&topic, message, opcode);
            }),
    );
    let publisher = app.publisher();
    (app.bind("127.0.0.1:0").expect("bind"), publisher)
}

fn client(addr: SocketAddr, topic: &str) -> Client {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let url = format!("ws://{addr}/topic/{topic}");
    tungstenite::client(url, stream).unwrap().0
}

fn next(ws: &mut Client) -> Message {
    loop {
        match ws.read().expect("a message") {
            Message::Ping(_) | Message::Pong(_) => continue,
            message => return message,
        }
    }
}

#[test]
fn publishes_cross_nodes_once_with_their_opcode() {
    let redis = Redis::start();
    let (a, publisher_a) = node(RedisBridge::new(redis.url()));
    let (b, _) = node(RedisBridge::new(redis.url()));
    let mut on_b = client(b.local_addr(), "room");
    let mut on_a = client(a.local_addr(), "room");
    wait_until("both nodes to subscribe on Redis", || {
        redis.numsub("uweb:room") == 2
    });

    // A WebSocket on A publishes: B's subscriber gets it; A's sender does not.
    on_a.send(Message::text("hello from A")).unwrap();
    assert_eq!(next(&mut on_b), Message::text("hello from A"));
    // A Publisher on A, binary: the opcode survives the trip.
    assert!(publisher_a.publish("room", [0u8, 159, 146, 150], OpCode::Binary));
    assert_eq!(next(&mut on_b), Message::binary(vec![0u8, 159, 146, 150]));
    assert_eq!(next(&mut on_a), Message::binary(vec![0u8, 159, 146, 150]));

    // B publishes: A's subscriber gets it once, B's sender never (its own message comes back
    // from Redis and is skipped); the marker after it shows nothing else arrived.
    on_b.send(Message::text("hello from B")).unwrap();
    assert_eq!(next(&mut on_a), Message::text("hello from B"));
    publisher_a.publish("room", "marker", OpCode::Text);
    assert_eq!(next(&mut on_a), Message::text("marker"));
    assert_eq!(next(&mut on_b), Message::text("marker"));

    // The last local subscriber leaving unsubscribes on Redis.
    on_b.close(None).unwrap();
    wait_until("B to unsubscribe on Redis", || {
        redis.numsub("uweb:room") == 1
    });
    on_a.close(None).unwrap();
    wait_until("A to unsubscribe on Redis", || {
        !redis.channels().contains(&"uweb:room".to_owned())
    });
    a.shutdown();
    b.shutdown();
}

#[test]
fn topic_names_are_not_patterns() {
    let redis = Redis::start();
    let (a, publisher_a) = node(RedisBridge::new(redis.url()));
    let (b, _) = node(RedisBridge::new(redis.url()));
    let mut sport = client(b.local_addr(), "news.sport");
    let mut star = client(b.local_addr(), "news.*");
    wait_until("B to subscribe", || {
        redis.numsub("uweb:news.sport") == 1 && redis.numsub("uweb:news.*") == 1
    });
    let mut c = redis.connection().unwrap();
    let patterns: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
    assert_eq!(patterns, 0, "the bridge never PSUBSCRIBEs");

    publisher_a.publish("news.*", "to the star topic only", OpCode::Text);
    publisher_a.publish("news.sport", "to sport only", OpCode::Text);
    assert_eq!(next(&mut star), Message::text("to the star topic only"));
    assert_eq!(next(&mut sport), Message::text("to sport only"));
    a.shutdown();
    b.shutdown();
}

#[test]
fn a_broker_restart_is_survived_and_the_loss_counted() {
    let redis = Redis::start();
    let bridge_a = RedisBridge::new(redis.url());
    let bridge_b = RedisBridge::new(redis.url());
    let (stats_a, stats_b) = (bridge_a.stats(), bridge_b.stats());
    let (a, publisher_a) = node(bridge_a);
    let (b, _) = node(bridge_b);
    let mut local_on_a = client(a.local_addr(), "feed");
    let mut on_b = client(b.local_addr(), "feed");
    let mut local_on_b = client(b.local_addr(), "feed");
    wait_until("both nodes to subscribe", || redis.numsub("uweb:feed") == 2);
    publisher_a.publish("feed", "before", OpCode::Text);
    assert_eq!(next(&mut on_b), Message::text("before"));
    assert_eq!(next(&mut local_on_b), Message::text("before"));
    assert_eq!(next(&mut local_on_a), Message::text("before"));

    let port = redis.stop();
    wait_until("B to notice the broker is gone", || !stats_b.connected());
    // Local delivery goes on, on both nodes; what could not reach Redis is counted.
    for i in 0..20 {
        let text = format!("while down {i}");
        publisher_a.publish("feed", &text, OpCode::Text);
        assert_eq!(next(&mut local_on_a), Message::text(text));
        on_b.send(Message::text(format!("B while down {i}")))
            .unwrap();
        assert_eq!(
            next(&mut local_on_b),
            Message::text(format!("B while down {i}"))
        );
    }
    wait_until("A to count the messages Redis did not get", || {
        stats_a.dropped() > 0
    });

    let redis = Redis::start_on(port);
    wait_until("B to reconnect and subscribe again", || {
        stats_b.reconnects() >= 1 && redis.numsub("uweb:feed") == 2
    });
    // A's publishing connection finds out on its first write that Redis restarted: publish
    // until one gets through, within a generous deadline.
    on_b.get_mut()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut arrived = None;
    'publishing: for i in 0.. {
        assert!(
            Instant::now() < deadline,
            "no message crossed after the restart"
        );
        publisher_a.publish("feed", format!("after {i}"), OpCode::Text);
        loop {
            match on_b.read() {
                Ok(Message::Text(text)) => {
                    arrived = Some(text.to_string());
                    break 'publishing;
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    // Messages still queued when Redis came back may go first: queued, not lost.
    let arrived = arrived.unwrap();
    drop(local_on_b);
    assert!(
        arrived.starts_with("after ") || arrived.starts_with("while down "),
        "{arrived}"
    );
    assert!(stats_a.published() >= 2);
    assert!(stats_b.received() >= 2);
    a.shutdown();
    b.shutdown();
}

#[test]
fn an_unreachable_broker_does_not_stop_the_server() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bridge = RedisBridge::new(format!("redis://127.0.0.1:{port}/"));
    let stats = bridge.stats();
    let (server, publisher) = node(bridge);
    let mut one = client(server.local_addr(), "t");
    let mut two = client(server.local_addr(), "t");
    one.send(Message::text("local")).unwrap();
    assert_eq!(next(&mut two), Message::text("local"));
    publisher.publish("t", "still local", OpCode::Text);
    assert_eq!(next(&mut one), Message::text("still local"));
    wait_until("the loss to be counted", || stats.dropped() >= 2);
    assert!(!stats.connected());
    server.shutdown();
}

#[test]
fn a_stopped_server_hands_over_what_it_published_and_lets_redis_go() {
    let redis = Redis::start();
    let mut listener = redis.connection().unwrap();
    let mut listening = listener.as_pubsub();
    listening.subscribe("uweb:t").unwrap();
    listening
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let bridge = RedisBridge::new(redis.url());
    let stats = bridge.stats();
    let (server, publisher) = node(bridge);
    let mut member = client(server.local_addr(), "t");
    wait_until("the bridge to subscribe", || redis.numsub("uweb:t") == 2);
    // Published last thing before the stop: it still reaches Redis.
    assert!(publisher.publish("t", "last words", OpCode::Text));
    assert_eq!(next(&mut member), Message::text("last words"));
    server.shutdown();
    let message = listening
        .get_message()
        .expect("the last message, through Redis");
    assert!(
        message.get_payload_bytes().ends_with(b"last words"),
        "an envelope around the payload"
    );
    assert_eq!(stats.published(), 1);
    // The bridge's two connections are closed: only the listener and the asking one remain.
    wait_until("the bridge to let Redis go", || redis.clients() == 2);
    assert!(!stats.connected());
}

/// examples/cluster_chat as users run it: two processes, one Redis, a member on each node.
#[test]
fn cluster_chat_example_chats_across_two_nodes() {
    let redis = Redis::start();
    let url = redis.url();
    let env = [("REDIS_URL", url.as_str())];
    let (_one, one) = support::examples::start_with("cluster_chat", &["redis"], &env);
    let (_two, two) = support::examples::start_with("cluster_chat", &["redis"], &env);
    let join = |addr: SocketAddr| {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        tungstenite::client(format!("ws://{addr}/chat/lobby"), stream)
            .unwrap()
            .0
    };
    let mut ada = join(one);
    assert!(
        next(&mut ada)
            .to_text()
            .unwrap()
            .starts_with("welcome to lobby")
    );
    wait_until("node one to subscribe", || redis.numsub("uweb:lobby") == 1);
    let mut bob = join(two);
    assert!(
        next(&mut bob)
            .to_text()
            .unwrap()
            .starts_with("welcome to lobby")
    );
    wait_until("node two to subscribe", || redis.numsub("uweb:lobby") == 2);
    // Bob's join may have reached Ada before Redis had node two's subscription: skip joins.
    bob.send(Message::text("hi from node two")).unwrap();
    let line = loop {
        let line = next(&mut ada).into_text().unwrap().to_string();
        if !line.ends_with(" joined") {
            break line;
        }
    };
    assert!(line.ends_with(": hi from node two"), "{line}");
    ada.send(Message::text("hello back")).unwrap();
    let line = loop {
        let line = next(&mut bob).into_text().unwrap().to_string();
        if !line.ends_with(": hi from node two") {
            break line;
        }
    };
    assert!(line.ends_with(": hello back"), "{line}");
}
