//! Channels and actions (SocketAPI, `socketapi` 0.2.0 on PyPI), wire-compatible with the
//! seed: one WebSocket carries `{"type": "subscribe" | "unsubscribe" | "action", "channel",
//! "data"}` messages; the server answers `{"type": "subscribed" | "unsubscribed", "channel"}`,
//! `{"type": "action", "channel", "status": "completed", "data"}`, pushes `{"type": "data",
//! "channel", "data"}` to a channel's subscribers, and reports `{"type": "error", "message"}`.
//! As in the seed, `data` is left out when it is empty (`null`, `false`, `0`, `""`, `[]`,
//! `{}`). Channel pushes ride uweb's pub/sub topics: framed once, every core.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ws::{OpCode, Publisher, WebSocket, WebSocketBehavior};

/// A channel's data from its parameters (the seed's channel function).
type Compute = dyn Fn(Value) -> Result<Value, String> + Send + Sync;
/// An action: parameters and the pusher in, result (or the error message) out.
type ActionFn = dyn Fn(Value, &ChannelPusher) -> Result<Value, String> + Send + Sync;

/// How a channel behaves on subscribe (the seed's `default_response` and
/// `RequiredOnSubscribe`), and whether its pushes are keyed (beyond the seed).
#[derive(Clone, Debug, Default)]
pub struct ChannelOptions {
    default_response: bool,
    required_on_subscribe: Vec<String>,
    keyed_by: Option<String>,
}

impl ChannelOptions {
    /// Default options: no data on subscribe, no required parameter, not keyed.
    pub fn new() -> Self {
        ChannelOptions::default()
    }

    /// Sends the channel's data (computed from the subscribe parameters) to a new subscriber
    /// at once (the seed's `default_response=True`).
    pub fn default_response(mut self) -> Self {
        self.default_response = true;
        self
    }

    /// A parameter the subscribe message must carry (the seed's
    /// `Annotated[T, RequiredOnSubscribe]`).
    pub fn required_on_subscribe(mut self, param: &str) -> Self {
        self.required_on_subscribe.push(param.to_owned());
        self
    }

    /// Keys the channel by this parameter (beyond the seed, which cannot express it): a
    /// subscriber receives only the pushes whose parameter has the value it subscribed with
    /// (a chat room's messages reach only that room). The parameter is then required on
    /// subscribe.
    pub fn keyed_by(mut self, param: &str) -> Self {
        self.keyed_by = Some(param.to_owned());
        self.required_on_subscribe.push(param.to_owned());
        self
    }
}

struct ChannelDef {
    compute: Box<Compute>,
    options: ChannelOptions,
}

/// SocketAPI's channels and actions, built like its `SocketAPI`/`Router` (merged with
/// [`include`](Self::include)) and served with [`App::channels`](crate::App::channels).
///
/// ```no_run
/// use uweb::{App, ChannelOptions, Channels};
///
/// #[derive(serde::Deserialize)]
/// struct Room { room_id: String, text: Option<String> }
///
/// let channels = Channels::new()
///     .channel_with("chat_room", ChannelOptions::new().keyed_by("room_id"), |room: Room| {
///         serde_json::json!({"room": room.room_id, "text": room.text})
///     })
///     .action("send_message", |room: Room, channels| {
///         channels.push("chat_room", serde_json::json!({"room_id": room.room_id, "text": room.text}))?;
///         Ok::<_, String>(serde_json::json!({"sent": true}))
///     });
/// App::new().channels("/", channels).listen(3000).unwrap();
/// ```
#[derive(Default)]
pub struct Channels {
    channels: HashMap<String, Arc<ChannelDef>>,
    actions: HashMap<String, Arc<ActionFn>>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .field("actions", &self.actions.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The seed's text for parameters that do not validate (it says "action" for channels too:
/// it names the Python function).
fn invalid(name: &str) -> String {
    format!("Invalid parameters for action '{name}'")
}

/// Decodes `params` into `P`, naming the field that did not fit after the seed's text.
fn decode<P: DeserializeOwned>(name: &str, params: Value) -> Result<P, String> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        format!("{}: {field}{}", invalid(name), e.inner())
    })
}

impl Channels {
    /// No channels, no actions.
    pub fn new() -> Self {
        Channels::default()
    }

    /// A channel computing its data from parameters `P` (decoded with serde from a push's
    /// or a subscribe message's `data`).
    pub fn channel<P, R, F>(self, name: &str, compute: F) -> Self
    where
        P: DeserializeOwned,
        R: Serialize,
        F: Fn(P) -> R + Send + Sync + 'static,
    {
        self.channel_with(name, ChannelOptions::new(), compute)
    }

    /// A channel with [`ChannelOptions`].
    pub fn channel_with<P, R, F>(mut self, name: &str, options: ChannelOptions, compute: F) -> Self
    where
        P: DeserializeOwned,
        R: Serialize,
        F: Fn(P) -> R + Send + Sync + 'static,
    {
        let owned = name.to_owned();
        let compute = move |params: Value| -> Result<Value, String> {
            let params: P = decode(&owned, params)?;
            serde_json::to_value(compute(params)).map_err(|e| e.to_string())
        };
        let def = ChannelDef {
            compute: Box::new(compute),
            options,
        };
        self.channels.insert(name.to_owned(), Arc::new(def));
        self
    }

    /// An action: `f(params, channels)` with `params` decoded from the message's `data`
    /// (invalid or missing fields are reported, naming the field); its `Ok` result is sent
    /// back as `{"type": "action", "channel", "status": "completed", "data"}`, its `Err` as an
    /// error message. `channels` pushes to channels ([`ChannelPusher::push`]).
    pub fn action<P, R, E, F>(mut self, name: &str, f: F) -> Self
    where
        P: DeserializeOwned,
        R: Serialize,
        E: std::fmt::Display,
        F: Fn(P, &ChannelPusher) -> Result<R, E> + Send + Sync + 'static,
    {
        let owned = name.to_owned();
        let action = move |params: Value, pusher: &ChannelPusher| -> Result<Value, String> {
            let params: P = decode(&owned, params)?;
            let result = f(params, pusher).map_err(|e| e.to_string())?;
            serde_json::to_value(result).map_err(|e| e.to_string())
        };
        self.actions.insert(name.to_owned(), Arc::new(action));
        self
    }

    /// Merges `other`'s channels and actions (the seed's `include_router`); a name defined
    /// twice keeps `other`'s.
    pub fn include(mut self, other: Channels) -> Self {
        self.channels.extend(other.channels);
        self.actions.extend(other.actions);
        self
    }

    /// A `Send + Clone` handle that pushes to these channels from anywhere (another thread,
    /// a timer), through `publisher` (the app's, [`App::publisher`](crate::App::publisher)).
    pub fn pusher(&self, publisher: Publisher) -> ChannelPusher {
        ChannelPusher {
            channels: Arc::new(self.channels.clone()),
            publisher,
        }
    }

    /// The WebSocket behavior serving these channels and actions.
    pub(crate) fn into_behavior(self, publisher: Publisher) -> WebSocketBehavior<Subscribed> {
        let pusher = self.pusher(publisher);
        let actions = Arc::new(self.actions);
        WebSocketBehavior::new().message(move |ws, message, _opcode| {
            handle(ws, message, &pusher, &actions);
        })
    }
}

/// Pushes data to channels (the seed's "calling a channel"): computes the channel's data from
/// the parameters and sends `{"type": "data", "channel", "data"}` to its subscribers on every
/// core, framed once. `Send + Sync + Clone`.
#[derive(Clone)]
pub struct ChannelPusher {
    channels: Arc<HashMap<String, Arc<ChannelDef>>>,
    publisher: Publisher,
}

impl std::fmt::Debug for ChannelPusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelPusher").finish_non_exhaustive()
    }
}

impl ChannelPusher {
    /// Pushes to `channel` with `params` (for a keyed channel, its key parameter chooses the
    /// subscribers). Returns how it went: `Ok(true)` when somebody was subscribed.
    ///
    /// # Errors
    /// An unknown channel, parameters that do not decode, or a key parameter missing.
    pub fn push(&self, channel: &str, params: impl Serialize) -> Result<bool, String> {
        let def = self
            .channels
            .get(channel)
            .ok_or_else(|| format!("Channel '{channel}' not found."))?;
        let params = serde_json::to_value(params).map_err(|e| e.to_string())?;
        let key = match &def.options.keyed_by {
            Some(param) => Some(
                key_of(&params, param)
                    .ok_or_else(|| format!("{}: missing key `{param}`", invalid(channel)))?,
            ),
            None => None,
        };
        let data = (def.compute)(params)?;
        let frame = reply("data", channel, None, Some(&data));
        Ok(self
            .publisher
            .publish(&topic(channel, key.as_deref()), frame, OpCode::Text))
    }
}

impl ChannelPusher {
    /// The seed's `POST /_broadcast` endpoint, for other processes on this machine: a JSON
    /// body `{"channel", "data"}` pushes `data` as the channel's parameters and is answered
    /// `{"status": "success"}`; requests from anywhere but loopback get `403` with the seed's
    /// `{"error": "Broadcast endpoint can only be accessed locally."}`; an unknown channel or
    /// bad parameters `400` with `{"error": ...}`. Route it with `.post("/_broadcast", ..)`.
    pub fn broadcast_handler(
        self,
    ) -> impl Fn(
        &mut crate::http::response::HttpResponse<'_>,
        &mut crate::http::request::HttpRequest<'_>,
    ) + Send
    + Sync
    + 'static {
        move |res, req| {
            if !req.remote_addr().ip().to_canonical().is_loopback() {
                let body = serde_json::json!({"error": "Broadcast endpoint can only be accessed locally."});
                return answer_json(res, "403 Forbidden", &body);
            }
            let pusher = self.clone();
            res.on_json(move |res, body: Value| {
                let channel = body
                    .get("channel")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let data = body
                    .get("data")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                match pusher.push(channel, data) {
                    Ok(_) => answer_json(res, "200 OK", &serde_json::json!({"status": "success"})),
                    Err(error) => {
                        answer_json(res, "400 Bad Request", &serde_json::json!({"error": error}))
                    }
                }
            });
        }
    }
}

/// Ends `res` with `status` and a JSON body.
fn answer_json(res: &mut crate::http::response::HttpResponse<'_>, status: &str, body: &Value) {
    res.write_status(status)
        .write_header("Content-Type", "application/json")
        .end(body.to_string());
}

/// Per-socket state: the topics this socket subscribed, by channel (a keyed channel may be
/// subscribed under several keys).
#[derive(Debug, Default)]
pub struct Subscribed {
    topics: HashMap<String, Vec<String>>,
}

/// The pub/sub topic of `channel` (and key): a prefix keeps them apart from the app's own.
fn topic(channel: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("socketapi\u{0}{channel}\u{0}{key}"),
        None => format!("socketapi\u{0}{channel}"),
    }
}

/// A key parameter's value as text (strings as they are, other JSON as its text).
fn key_of(params: &Value, param: &str) -> Option<String> {
    match params.get(param)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Python's falsiness, which the seed uses to leave `data` out.
fn is_empty(data: &Value) -> bool {
    match data {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// The seed's message: `type`, `channel`, then `status` and `data` when present, in that
/// order (a `Map` would sort the keys).
fn reply(kind: &str, channel: &str, status: Option<&str>, data: Option<&Value>) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let mut out = format!(r#"{{"type":{},"channel":{}"#, text(kind), text(channel));
    if let Some(status) = status {
        out.push_str(&format!(r#","status":{}"#, text(status)));
    }
    if let Some(data) = data.filter(|d| !is_empty(d)) {
        out.push_str(&format!(r#","data":{data}"#));
    }
    out.push('}');
    out
}

fn error(ws: &mut WebSocket<'_, Subscribed>, message: &str) {
    let text = serde_json::json!({"type": "error", "message": message}).to_string();
    ws.send(text, OpCode::Text);
}

/// One client message.
fn handle(
    ws: &mut WebSocket<'_, Subscribed>,
    message: &[u8],
    pusher: &ChannelPusher,
    actions: &HashMap<String, Arc<ActionFn>>,
) {
    let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(message) else {
        return error(ws, "Message must be a JSON object.");
    };
    let kind = match message.get("type") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return error(ws, "Message type is required."),
    };
    let channel = match message.get("channel") {
        Some(Value::String(c)) if !c.is_empty() => c.clone(),
        _ => return error(ws, "Channel is required."),
    };
    let data = message
        .remove("data")
        .unwrap_or_else(|| Value::Object(Map::new()));
    match kind.as_str() {
        "subscribe" => subscribe(ws, &channel, data, pusher),
        "unsubscribe" => {
            let topics = ws
                .user_data_mut()
                .topics
                .remove(&channel)
                .unwrap_or_default();
            for topic in topics {
                ws.unsubscribe(&topic);
            }
            ws.send(reply("unsubscribed", &channel, None, None), OpCode::Text);
        }
        "action" => {
            let Some(action) = actions.get(&channel) else {
                return error(ws, &format!("Action '{channel}' not found."));
            };
            match action(data, pusher) {
                Ok(result) => {
                    let text = reply("action", &channel, Some("completed"), Some(&result));
                    ws.send(text, OpCode::Text);
                }
                Err(message) => error(ws, &message),
            }
        }
        other => error(ws, &format!("Unknown message type: {other}.")),
    }
}

/// A subscribe message: required parameters checked, the socket subscribed (under its key
/// for a keyed channel), `subscribed` sent, then the data for `default_response`.
fn subscribe(
    ws: &mut WebSocket<'_, Subscribed>,
    channel: &str,
    data: Value,
    pusher: &ChannelPusher,
) {
    let Some(def) = pusher.channels.get(channel) else {
        return error(ws, &format!("Channel '{channel}' not found."));
    };
    for param in &def.options.required_on_subscribe {
        if data.get(param).is_none_or(Value::is_null) {
            let message = format!("{}: missing field `{param}`", invalid(channel));
            return error(ws, &message);
        }
    }
    let initial = match def.options.default_response {
        true => match (def.compute)(data.clone()) {
            Ok(initial) => Some(initial),
            Err(message) => return error(ws, &message),
        },
        false => None,
    };
    let key = def
        .options
        .keyed_by
        .as_deref()
        .and_then(|p| key_of(&data, p));
    let topic = topic(channel, key.as_deref());
    ws.subscribe(&topic);
    let topics = ws
        .user_data_mut()
        .topics
        .entry(channel.to_owned())
        .or_default();
    if !topics.contains(&topic) {
        topics.push(topic);
    }
    ws.send(reply("subscribed", channel, None, None), OpCode::Text);
    if let Some(initial) = initial {
        ws.send(reply("data", channel, None, Some(&initial)), OpCode::Text);
    }
}
