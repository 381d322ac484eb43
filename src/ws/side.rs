//! What a loop keeps about some of its WebSockets, outside their slab entries (which stay
//! at their size budget for every socket): the tickets of sockets that handed out a
//! [`WebSocketHandle`](super::remote::WebSocketHandle), and the route parameters of sockets
//! whose route had some. Looked up by slab key only when used; cleared when the socket goes.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::deflate::LoopDeflate;
use super::remote::Tickets;
use crate::router::ParamKey;

/// A WebSocket route's parameters, copied from the handshake request.
#[derive(Debug)]
pub(crate) struct RouteParams {
    names: Box<[Box<str>]>,
    values: Box<[Box<str>]>,
}

impl RouteParams {
    /// The `values` of the route parameters `names` (pattern order).
    pub(crate) fn new<'a>(names: &[Box<str>], values: impl Iterator<Item = &'a str>) -> Self {
        RouteParams {
            names: names.into(),
            values: values.map(Box::from).collect(),
        }
    }

    /// A parameter by position or name.
    pub(crate) fn get(&self, key: impl ParamKey) -> Option<&str> {
        let index = key.position(&self.names)?;
        self.values.get(index).map(|v| &**v)
    }
}

/// One loop's side tables of WebSockets, by slab key.
#[derive(Debug, Default)]
pub(crate) struct Side {
    pub(crate) tickets: Tickets,
    params: HashMap<usize, Box<RouteParams>>,
    /// Client addresses from PROXY protocol headers.
    proxied: HashMap<usize, SocketAddr>,
    /// The loop's shared permessage-deflate contexts.
    pub(crate) deflate: LoopDeflate,
}

impl Side {
    /// Socket `key` opened on a route with parameters.
    pub(crate) fn set_params(&mut self, key: usize, params: Box<RouteParams>) {
        self.params.insert(key, params);
    }

    /// Socket `key`'s route parameters, if its route had any.
    pub(crate) fn params(&self, key: usize) -> Option<&RouteParams> {
        self.params.get(&key).map(|p| &**p)
    }

    /// Socket `key` came through a PROXY protocol header naming the client `addr`.
    pub(crate) fn set_proxied(&mut self, key: usize, addr: SocketAddr) {
        self.proxied.insert(key, addr);
    }

    /// Socket `key`'s client address from its PROXY protocol header.
    pub(crate) fn proxied(&self, key: usize) -> Option<SocketAddr> {
        self.proxied.get(&key).copied()
    }

    /// Socket `key` is gone: its handles learn it, its entries go.
    pub(crate) fn close(&mut self, key: usize) {
        self.tickets.close(key);
        self.deflate.close(key);
        if !self.params.is_empty() {
            self.params.remove(&key);
        }
        if !self.proxied.is_empty() {
            self.proxied.remove(&key);
        }
    }
}
