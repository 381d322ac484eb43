//! `TlsError`: why a certificate, key or server-name pattern was refused.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong; see the `is_*` predicates of [`TlsError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    MissingFile,
    BadPem,
    NoCertificate,
    NoKey,
    UnsupportedKey,
    KeyMismatch,
    BadCertificate,
    BadPattern,
}

/// A TLS configuration error: a certificate or key file that cannot be read or parsed, a key
/// that does not belong to its certificate, or an invalid server-name pattern.
///
/// Opaque (as hyper's `Error`): ask it with the `is_*` predicates; [`source`](StdError::source)
/// gives the underlying I/O, PEM or rustls error where there is one, and `Display` names the
/// file involved.
pub struct TlsError {
    kind: Kind,
    path: Option<PathBuf>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TlsError {
    pub(crate) fn new(kind: Kind) -> Self {
        TlsError {
            kind,
            path: None,
            source: None,
        }
    }

    pub(crate) fn with_path(mut self, path: &Path) -> Self {
        self.path = Some(path.to_owned());
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A certificate or key file does not exist or cannot be read.
    pub fn is_missing_file(&self) -> bool {
        self.kind == Kind::MissingFile
    }

    /// A file is not valid PEM, or holds no certificate / no private key.
    pub fn is_bad_pem(&self) -> bool {
        matches!(self.kind, Kind::BadPem | Kind::NoCertificate | Kind::NoKey)
    }

    /// The private key is not one rustls' `ring` provider can sign with (it supports RSA,
    /// ECDSA P-256/P-384 and Ed25519 keys in PKCS#8, PKCS#1 or SEC1 form).
    pub fn is_unsupported_key(&self) -> bool {
        self.kind == Kind::UnsupportedKey
    }

    /// The private key does not match the public key of the end-entity certificate.
    pub fn is_key_mismatch(&self) -> bool {
        self.kind == Kind::KeyMismatch
    }

    /// The end-entity certificate is not a parsable X.509 certificate.
    pub fn is_bad_certificate(&self) -> bool {
        self.kind == Kind::BadCertificate
    }

    /// A server-name pattern is not a valid host name (labels of letters, digits, `-` and `_`;
    /// `*` only as a whole label).
    pub fn is_bad_pattern(&self) -> bool {
        self.kind == Kind::BadPattern
    }

    fn describe(&self) -> &'static str {
        match self.kind {
            Kind::MissingFile => "cannot read file",
            Kind::BadPem => "invalid PEM",
            Kind::NoCertificate => "no certificate found",
            Kind::NoKey => "no private key found",
            Kind::UnsupportedKey => "unsupported private key",
            Kind::KeyMismatch => "private key does not match the certificate",
            Kind::BadCertificate => "invalid certificate",
            Kind::BadPattern => "invalid server-name pattern",
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())?;
        if let Some(path) = &self.path {
            write!(f, " ({})", path.display())?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsError")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("source", &self.source)
            .finish()
    }
}

impl StdError for TlsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
