//! Transport: plain TCP or rustls over TCP, the TLS configuration (certificates, SNI), and
//! the PROXY protocol header some listeners read first.

pub(crate) mod link;
pub(crate) mod name_pattern;
pub(crate) mod proxy;
pub(crate) mod sni;
pub(crate) mod stream;
pub(crate) mod tls;
pub(crate) mod tls_config;
pub(crate) mod tls_error;
pub(crate) mod transport;
pub(crate) mod wire;
