//! Transport: plain TCP or rustls over TCP, and the TLS configuration (certificates, SNI).

pub(crate) mod link;
pub(crate) mod name_pattern;
pub(crate) mod sni;
pub(crate) mod tls;
pub(crate) mod tls_config;
pub(crate) mod tls_error;
pub(crate) mod transport;
pub(crate) mod wire;
