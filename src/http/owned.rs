//! An owned copy of a request head (socketify's `req.preserve()`), for a handler that answers
//! later: the borrowed [`HttpRequest`](crate::HttpRequest) stays zero-copy for the synchronous path, and this
//! copy is made only when asked for, in one buffer.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::ops::Range;

use ::http::Extensions;

use super::head::Head;
use super::query;
use crate::router::ParamKey;

/// An owned, `'static + Send` copy of a request head: method, request target, header
/// fields, route parameters, peer address and extensions. Made with
/// [`HttpRequest::to_owned`](super::request::HttpRequest::to_owned); the same accessors as [`HttpRequest`](crate::HttpRequest).
///
/// The text is copied into one buffer, which also holds the table of where each field and
/// route parameter is in it: one allocation (route parameter names are cloned from the
/// route's).
#[derive(Clone)]
pub struct OwnedRequest {
    /// The table (per field: name start, name end, value start, value end; then per route
    /// parameter: start, end; each a little-endian `u32`), then method, path, query, and
    /// each field's name and value, back to back.
    text: Box<[u8]>,
    method: Range<u32>,
    path: Range<u32>,
    query: Range<u32>,
    fields: u32,
    params: u32,
    param_names: Box<[Box<str>]>,
    remote_addr: SocketAddr,
    minor_version: u8,
    extensions: Extensions,
}

/// Bytes of one entry of the table: a `u32` offset.
const WORD: usize = 4;

impl OwnedRequest {
    /// Copies `head`, with the route's `param_names` and their `params` spans in the path.
    pub(crate) fn copy(
        head: &Head<'_, '_>,
        param_names: &[Box<str>],
        params: &[(u32, u32)],
        remote_addr: SocketAddr,
        extensions: &Extensions,
    ) -> OwnedRequest {
        let field_bytes: usize = head
            .headers
            .iter()
            .map(|h| h.name.len() + h.value.len())
            .sum();
        let table = (head.headers.len() * 4 + params.len() * 2) * WORD;
        let mut text = Vec::with_capacity(
            table + head.method.len() + head.path.len() + head.query.len() + field_bytes,
        );
        text.resize(table, 0);
        let push = |text: &mut Vec<u8>, bytes: &[u8]| {
            let start = text.len() as u32;
            text.extend_from_slice(bytes);
            start..text.len() as u32
        };
        let mut slot = 0;
        let mut note = |text: &mut Vec<u8>, range: Range<u32>| {
            text[slot..slot + WORD].copy_from_slice(&range.start.to_le_bytes());
            text[slot + WORD..slot + 2 * WORD].copy_from_slice(&range.end.to_le_bytes());
            slot += 2 * WORD;
        };
        let method = push(&mut text, head.method.as_bytes());
        let path = push(&mut text, head.path.as_bytes());
        let query = push(&mut text, head.query.as_bytes());
        for h in head.headers {
            let name = push(&mut text, h.name.as_bytes());
            let value = push(&mut text, h.value);
            note(&mut text, name);
            note(&mut text, value);
        }
        for &(start, end) in params {
            note(&mut text, path.start + start..path.start + end);
        }
        OwnedRequest {
            text: text.into_boxed_slice(),
            method,
            path,
            query,
            fields: head.headers.len() as u32,
            params: params.len() as u32,
            param_names: param_names.into(),
            remote_addr,
            minor_version: head.minor_version,
            extensions: extensions.clone(),
        }
    }

    /// The `index`th range of the table.
    fn entry(&self, index: usize) -> Range<u32> {
        let at = index * 2 * WORD;
        let word = |at: usize| {
            let mut bytes = [0; WORD];
            bytes.copy_from_slice(&self.text[at..at + WORD]);
            u32::from_le_bytes(bytes)
        };
        word(at)..word(at + WORD)
    }

    /// Each field's name and value ranges, in arrival order.
    fn field_ranges(&self) -> impl Iterator<Item = (Range<u32>, Range<u32>)> + '_ {
        (0..self.fields as usize).map(|i| (self.entry(2 * i), self.entry(2 * i + 1)))
    }

    fn str(&self, range: &Range<u32>) -> &str {
        // Method, target and field names were valid UTF-8 in the request, and are copied
        // whole: this never fails.
        std::str::from_utf8(self.bytes(range)).unwrap_or_default()
    }

    fn bytes(&self, range: &Range<u32>) -> &[u8] {
        &self.text[range.start as usize..range.end as usize]
    }

    /// The method token, e.g. `"GET"`; see [`HttpRequest::method`](crate::HttpRequest::method).
    pub fn method(&self) -> &str {
        self.str(&self.method)
    }

    /// The path of the request target; see [`HttpRequest::url`](crate::HttpRequest::url).
    pub fn url(&self) -> &str {
        self.str(&self.path)
    }

    /// The raw query without `?`; see [`HttpRequest::query`](crate::HttpRequest::query).
    pub fn query(&self) -> &str {
        self.str(&self.query)
    }

    /// A decoded query parameter; see [`HttpRequest::query_value`](crate::HttpRequest::query_value).
    pub fn query_value(&self, key: &str) -> Option<Cow<'_, str>> {
        query::query_value(self.query(), key)
    }

    /// The first field named `name` (case-insensitive) as UTF-8; see
    /// [`HttpRequest::header`](crate::HttpRequest::header).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.field_ranges()
            .find(|(n, _)| self.str(n).eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(self.bytes(&v)).ok())
    }

    /// Every field as `(name, value)` in arrival order; see [`HttpRequest::headers`](crate::HttpRequest::headers).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.field_ranges()
            .map(|(n, v)| (self.str(&n), self.bytes(&v)))
    }

    /// A route parameter by position or name; see [`HttpRequest::parameter`](crate::HttpRequest::parameter).
    pub fn parameter(&self, key: impl ParamKey) -> Option<&str> {
        let index = key.position(&self.param_names)?;
        (index < self.params as usize)
            .then(|| self.str(&self.entry(2 * self.fields as usize + index)))
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub fn minor_version(&self) -> u8 {
        self.minor_version
    }

    /// The extensions middleware attached, cloned; see [`HttpRequest::extensions`](crate::HttpRequest::extensions).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The extensions, for writing.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }
}

impl std::fmt::Debug for OwnedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedRequest")
            .field("method", &self.method())
            .field("url", &self.url())
            .field("query", &self.query())
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use ::http::Extensions;

    use super::OwnedRequest;
    use crate::config::Config;
    use crate::http::head::parse_head;

    fn owned(raw: &[u8], params: &[(u32, u32)]) -> OwnedRequest {
        let mut slots = [const { MaybeUninit::uninit() }; 16];
        let head = parse_head(raw, &mut slots, &Config::default())
            .unwrap()
            .unwrap();
        let names: Vec<Box<str>> = (0..params.len()).map(|i| format!("p{i}").into()).collect();
        let remote = "127.0.0.1:9".parse().unwrap();
        OwnedRequest::copy(&head, &names, params, remote, &Extensions::new())
    }

    #[test]
    fn every_part_of_the_head_is_copied() {
        let req = owned(
            b"\r\nPOST /a/bc?x=1 HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Two: b c\r\n\r\nbody",
            &[(3, 5)],
        );
        assert_eq!(
            (req.method(), req.url(), req.query()),
            ("POST", "/a/bc", "x=1")
        );
        let fields: Vec<_> = req.headers().collect();
        assert_eq!(
            fields,
            [("Host", &b"h"[..]), ("X-Empty", b""), ("X-Two", b"b c")]
        );
        assert_eq!(req.parameter(0), Some("bc"));
        assert_eq!(req.minor_version(), 1);
    }

    #[test]
    fn an_absolute_form_target_without_a_path_is_slash() {
        // An absolute-form target with no path stands for `/`, which the request never sent.
        let req = owned(b"GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", &[]);
        assert_eq!((req.method(), req.url(), req.query()), ("GET", "/", "q=1"));
        assert_eq!(req.header("host"), Some("h"));
    }
}
