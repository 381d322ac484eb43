//! Certificate selection by SNI name (RFC 6066 section 3): uWebSockets' `addServerName`,
//! `removeServerName` and `missingServerName`, as a rustls `ResolvesServerCert`.

use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::name_pattern::NamePattern;
use super::tls_config::TlsConfig;
use super::tls_error::TlsError;

/// Called with an SNI name no pattern matches; a returned config is added for exactly that
/// name (so later handshakes find it at once) and used for this handshake.
pub(crate) type MissingServerName = Arc<dyn Fn(&str) -> Option<TlsConfig> + Send + Sync>;

/// The default certificate and the per-pattern ones.
#[derive(Default)]
struct Table {
    default: Option<Arc<CertifiedKey>>,
    /// Patterns without `*`, by their lowercase text.
    exact: HashMap<Box<str>, Arc<CertifiedKey>>,
    /// Patterns with a `*` label, most specific first.
    wildcard: Vec<(NamePattern, Arc<CertifiedKey>)>,
    /// Asked about names no pattern matches.
    missing: Option<MissingServerName>,
}

impl Table {
    fn find(&self, name: &str) -> Option<&Arc<CertifiedKey>> {
        self.exact.get(name).or_else(|| {
            self.wildcard
                .iter()
                .find(|(pattern, _)| pattern.matches(name))
                .map(|(_, key)| key)
        })
    }
}

/// The certificates of a server's TLS listeners, shared by every loop: the default
/// certificate, and one per server-name pattern.
///
/// A handle: clones share the table. Changes ([`add`](Self::add), [`remove`](Self::remove))
/// apply to the handshakes that start afterwards, on every loop; a read lock is taken once per
/// handshake (handshakes are not the per-request path). Get it from
/// [`Server::server_names`](crate::Server::server_names) to change certificates while serving.
///
/// Patterns follow the routing-domain rules: host names compared case-insensitively, `*`
/// stands for exactly one label (`*.example.com` matches `a.example.com`, not
/// `example.com` nor `a.b.example.com`), and an exact name wins over a wildcard; among
/// wildcards the one with literal labels further left wins.
#[derive(Clone)]
pub struct ServerNames {
    inner: Arc<Inner>,
}

struct Inner {
    table: RwLock<Table>,
}

impl ServerNames {
    /// A table with `default` as the certificate of last resort.
    pub(crate) fn new(default: Option<TlsConfig>) -> ServerNames {
        let table = Table {
            default: default.map(|c| c.certified),
            ..Table::default()
        };
        ServerNames {
            inner: Arc::new(Inner {
                table: RwLock::new(table),
            }),
        }
    }

    /// Presents `config`'s certificate to clients whose SNI name matches `pattern`
    /// (replacing any certificate the same pattern had).
    ///
    /// # Errors
    /// [`TlsError::is_bad_pattern`] when `pattern` is not a host name with optional `*` labels.
    pub fn add(&self, pattern: &str, config: TlsConfig) -> Result<(), TlsError> {
        let pattern = NamePattern::parse(pattern)?;
        let mut table = self.write();
        if pattern.is_exact() {
            table.exact.insert(pattern.text().into(), config.certified);
            return Ok(());
        }
        match table.wildcard.iter_mut().find(|(p, _)| *p == pattern) {
            Some(entry) => entry.1 = config.certified,
            None => {
                table.wildcard.push((pattern, config.certified));
                table
                    .wildcard
                    .sort_by(|(a, _), (b, _)| a.specificity_cmp(b));
            }
        }
        Ok(())
    }

    /// Presents `config`'s certificate to clients whose name matches no pattern (and to
    /// clients that send no SNI name), replacing the previous default.
    pub fn set_default(&self, config: TlsConfig) {
        self.write().default = Some(config.certified);
    }

    /// Sets the callback asked about names no pattern matches (replacing any earlier one).
    pub(crate) fn set_missing(&self, missing: MissingServerName) {
        self.write().missing = Some(missing);
    }

    /// Stops presenting the certificate added for exactly `pattern`; returns whether there
    /// was one. Names it matched fall back to other patterns, then to the default.
    pub fn remove(&self, pattern: &str) -> bool {
        let Ok(pattern) = NamePattern::parse(pattern) else {
            return false;
        };
        let mut table = self.write();
        if pattern.is_exact() {
            return table.exact.remove(pattern.text()).is_some();
        }
        let before = table.wildcard.len();
        table.wildcard.retain(|(p, _)| *p != pattern);
        table.wildcard.len() != before
    }

    /// The certificate for SNI name `name` (any case): the best pattern's, else the one
    /// `missing_server_name` supplies, else the default. `None` when there is none at all, and
    /// the handshake fails.
    fn select(&self, name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = name else {
            return self.read().default.clone();
        };
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        let missing = {
            let table = self.read();
            if let Some(key) = table.find(name) {
                return Some(Arc::clone(key));
            }
            match &table.missing {
                Some(missing) => Arc::clone(missing),
                // One lock and one search per handshake when there is no callback.
                None => return table.default.clone(),
            }
        };
        // Called without the lock held: the callback may itself add or remove names.
        let supplied = catch_unwind(AssertUnwindSafe(|| missing(name))).unwrap_or_else(|_| {
            log::error!("missing_server_name callback panicked for {name:?}");
            None
        });
        if let Some(config) = supplied {
            let key = Arc::clone(&config.certified);
            if let Err(e) = self.add(name, config) {
                log::warn!("missing_server_name: cannot add {name:?}: {e}");
            }
            return Some(key);
        }
        // The callback declined, but may have added names itself.
        let table = self.read();
        table.find(name).or(table.default.as_ref()).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.inner
            .table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.inner
            .table
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ServerNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.read();
        f.debug_struct("ServerNames")
            .field("default", &table.default.is_some())
            .field("exact", &table.exact.keys().collect::<Vec<_>>())
            .field(
                "wildcard",
                &table
                    .wildcard
                    .iter()
                    .map(|(p, _)| p.text())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// rustls asks once per handshake, after reading the ClientHello.
#[derive(Debug)]
pub(crate) struct Resolver(pub(crate) ServerNames);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.select(client_hello.server_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> TlsConfig {
        let pair = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        TlsConfig::from_pem(
            pair.cert.pem().as_bytes(),
            pair.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap()
    }

    /// Which of `candidates` was selected for `name`, by pointer identity.
    fn chosen(names: &ServerNames, name: Option<&str>, candidates: &[&TlsConfig]) -> Option<usize> {
        let key = names.select(name)?;
        candidates
            .iter()
            .position(|c| Arc::ptr_eq(&c.certified, &key))
    }

    #[test]
    fn exact_beats_wildcard_and_default_is_the_fallback() {
        let (default, wild, exact) = (config("d"), config("*.a.test"), config("x.a.test"));
        let names = ServerNames::new(Some(default.clone()));
        names.add("*.a.test", wild.clone()).unwrap();
        names.add("X.A.test", exact.clone()).unwrap();
        let all = [&default, &wild, &exact];
        assert_eq!(chosen(&names, Some("x.a.test"), &all), Some(2));
        assert_eq!(chosen(&names, Some("Y.a.TEST"), &all), Some(1));
        assert_eq!(chosen(&names, Some("a.test"), &all), Some(0));
        assert_eq!(chosen(&names, Some("y.x.a.test"), &all), Some(0));
        assert_eq!(chosen(&names, None, &all), Some(0));
        assert!(names.remove("*.a.test"));
        assert!(!names.remove("*.a.test"));
        assert_eq!(chosen(&names, Some("y.a.test"), &all), Some(0));
    }

    #[test]
    fn more_literal_wildcard_wins() {
        let (left, right) = (config("l"), config("r"));
        let names = ServerNames::new(None);
        names.add("*.*.test", right.clone()).unwrap();
        names.add("*.b.test", left.clone()).unwrap();
        assert_eq!(chosen(&names, Some("a.b.test"), &[&left, &right]), Some(0));
        assert_eq!(chosen(&names, Some("a.c.test"), &[&left, &right]), Some(1));
        assert_eq!(chosen(&names, Some("c.test"), &[&left, &right]), None);
    }

    #[test]
    fn missing_server_name_adds_on_the_spot() {
        let supplied = config("new.test");
        let given = supplied.clone();
        let names = ServerNames::new(None);
        names.set_missing(Arc::new(move |name| {
            (name == "new.test").then(|| given.clone())
        }));
        assert!(names.select(Some("other.test")).is_none());
        let key = names.select(Some("new.test")).unwrap();
        assert!(Arc::ptr_eq(&key, &supplied.certified));
        assert!(names.read().exact.contains_key("new.test"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        let names = ServerNames::new(None);
        for bad in ["", "a..b", "a*.b", "**.b", ".a.b", "a b.c", "a.b."] {
            assert!(
                names.add(bad, config("x")).unwrap_err().is_bad_pattern(),
                "{bad:?}"
            );
        }
    }
}
