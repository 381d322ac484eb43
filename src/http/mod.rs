//! HTTP/1.1 (RFC 9112): head parsing, body decoding, the request view, the response writer and
//! the sans-IO connection that ties them together.

pub(crate) mod ahead;
pub(crate) mod answer;
#[cfg(feature = "tokio")]
pub(crate) mod batch;
pub(crate) mod chunked;
pub(crate) mod collect;
pub(crate) mod compress;
pub(crate) mod compressed;
pub(crate) mod conn;
pub(crate) mod errors;
pub(crate) mod exchange;
pub(crate) mod field;
pub(crate) mod head;
pub(crate) mod host;
pub(crate) mod later;
pub(crate) mod letter;
pub(crate) mod owned;
pub(crate) mod pipeline;
pub(crate) mod query;
pub(crate) mod request;
pub(crate) mod respond;
pub(crate) mod response;
pub(crate) mod streaming;
