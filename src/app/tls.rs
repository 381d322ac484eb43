//! The `App` builder's TLS part: the default certificate and per-SNI certificates
//! (uWebSockets' `SSLApp`, `addServerName`, `removeServerName`, `missingServerName`).

use std::sync::Arc;

use super::builder::App;
use crate::net::sni::ServerNames;
use crate::net::tls_config::TlsConfig;

impl App {
    /// An app whose [`listen`](Self::listen) and [`bind`](Self::bind) serve HTTPS (and `wss://`)
    /// with `config` as the default certificate (uWebSockets' `SSLApp`). TLS 1.2 and 1.3 via
    /// rustls with the `ring` provider; ALPN advertises `http/1.1` (RFC 7301). Plain listeners
    /// can serve the same app beside it: see [`bind_all`](Self::bind_all).
    ///
    /// ```no_run
    /// use uweb::{App, TlsConfig};
    ///
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     App::tls(TlsConfig::from_pem_files("cert.pem", "key.pem")?)
    ///         .get("/*", |res, _req| res.end("default site"))
    ///         .add_server_name("*.example.com", TlsConfig::from_pem_files("ex.pem", "ex.key")?)
    ///         .listen(8443)?;
    ///     Ok(())
    /// }
    /// ```
    pub fn tls(config: TlsConfig) -> App {
        App::new().default_certificate(config)
    }

    /// Sets (or replaces) the default certificate: the one presented when no
    /// [`add_server_name`](Self::add_server_name) pattern matches the client's SNI name, or
    /// when it sends none. `App::tls(c)` is `App::new().default_certificate(c)`: from then on
    /// [`listen`](Self::listen) and [`bind`](Self::bind) serve HTTPS.
    pub fn default_certificate(mut self, config: TlsConfig) -> Self {
        match &self.server_names {
            Some(names) => names.set_default(config),
            None => self.server_names = Some(ServerNames::new(Some(config))),
        }
        self
    }

    /// Presents `config`'s certificate to TLS clients whose SNI name (RFC 6066 section 3)
    /// matches `pattern`, e.g. `"api.example.com"` or `"*.example.com"` (`*` is exactly one
    /// label; an exact name beats a wildcard). Names matching no pattern get the default
    /// certificate of [`App::tls`]. Mirrors uWebSockets' `addServerName`; to change names
    /// while serving, use [`Server::server_names`](crate::Server::server_names).
    ///
    /// # Panics
    /// If `pattern` is not a host name whose labels are letters, digits, `-`, `_` or `*`.
    pub fn add_server_name(mut self, pattern: &str, config: TlsConfig) -> Self {
        let names = self
            .server_names
            .get_or_insert_with(|| ServerNames::new(None));
        if let Err(e) = names.add(pattern, config) {
            panic!("add_server_name({pattern:?}): {e}");
        }
        self
    }

    /// Removes the certificate added for exactly `pattern` (uWebSockets'
    /// `removeServerName`); nothing happens when there is none.
    pub fn remove_server_name(self, pattern: &str) -> Self {
        if let Some(names) = &self.server_names {
            names.remove(pattern);
        }
        self
    }

    /// Calls `missing(hostname)` during a handshake whose SNI name (lowercase) matches no
    /// pattern (uWebSockets' `missingServerName`). Returning `Some(config)` adds `config` for
    /// exactly that name, so this and later handshakes use it; `None` lets the default
    /// certificate answer (or fails the handshake when there is none). It runs on the loop
    /// thread of the handshake and must not block; a panic in it counts as `None`.
    pub fn missing_server_name<F>(mut self, missing: F) -> Self
    where
        F: Fn(&str) -> Option<TlsConfig> + Send + Sync + 'static,
    {
        let names = self
            .server_names
            .get_or_insert_with(|| ServerNames::new(None));
        names.set_missing(Arc::new(missing));
        self
    }
}
