//! `TlsConfig`: one certificate chain and its private key, checked to belong together.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::tls_error::{Kind, TlsError};

/// A certificate chain and private key to serve TLS with (uWebSockets' `SocketContextOptions`
/// `cert_file_name` / `key_file_name`), for [`App::tls`](crate::App::tls) (the default
/// certificate) or [`App::add_server_name`](crate::App::add_server_name) (one SNI pattern).
///
/// Cheap to clone (the parsed key is shared). Built with
/// [`from_pem_files`](Self::from_pem_files), [`from_pem`](Self::from_pem) or
/// [`from_der`](Self::from_der); each checks that the key matches the end-entity certificate.
///
/// ```
/// use uweb::TlsConfig;
///
/// // A throw-away self-signed certificate (rcgen); real ones come from files.
/// let site = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
/// let other = rcgen::generate_simple_self_signed(vec!["other".to_owned()]).unwrap();
/// let (cert, key) = (site.cert.pem(), site.signing_key.serialize_pem());
///
/// let config = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
/// assert_eq!(config.cert_chain().len(), 1);
///
/// let wrong_key = other.signing_key.serialize_pem();
/// let err = TlsConfig::from_pem(cert.as_bytes(), wrong_key.as_bytes()).unwrap_err();
/// assert!(err.is_key_mismatch());
///
/// let err = TlsConfig::from_pem_files("missing.pem", "missing.key").unwrap_err();
/// assert!(err.is_missing_file());
/// assert!(err.to_string().contains("missing.pem"));
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) certified: Arc<CertifiedKey>,
}

impl TlsConfig {
    /// Reads a PEM certificate chain (end-entity certificate first, then intermediates) and a
    /// PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`).
    ///
    /// # Errors
    /// [`TlsError::is_missing_file`] when a file cannot be read; [`TlsError::is_bad_pem`] when
    /// it is not PEM or holds no certificate / key; [`TlsError::is_unsupported_key`],
    /// [`TlsError::is_bad_certificate`] and [`TlsError::is_key_mismatch`] as for
    /// [`from_der`](Self::from_der). The error's `Display` names the file.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        let chain = CertificateDer::pem_file_iter(cert_path)
            .map_err(|e| pem_error(e, Kind::NoCertificate).with_path(cert_path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(e, Kind::NoCertificate).with_path(cert_path))?;
        if chain.is_empty() {
            return Err(TlsError::new(Kind::NoCertificate).with_path(cert_path));
        }
        let key = PrivateKeyDer::from_pem_file(key_path)
            .map_err(|e| pem_error(e, Kind::NoKey).with_path(key_path))?;
        Self::from_der(chain, key).map_err(|e| match e.is_key_mismatch() {
            true => e.with_path(key_path),
            false => e,
        })
    }

    /// Like [`from_pem_files`](Self::from_pem_files), from PEM text held in memory.
    ///
    /// # Errors
    /// As `from_pem_files`, without the missing-file case.
    pub fn from_pem(cert_chain: &[u8], private_key: &[u8]) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(e, Kind::NoCertificate))?;
        if chain.is_empty() {
            return Err(TlsError::new(Kind::NoCertificate));
        }
        let key =
            PrivateKeyDer::from_pem_slice(private_key).map_err(|e| pem_error(e, Kind::NoKey))?;
        Self::from_der(chain, key)
    }

    /// From DER: the certificate chain (end-entity first) and the private key.
    ///
    /// # Errors
    /// [`TlsError::is_bad_pem`] for an empty chain; [`TlsError::is_unsupported_key`] when the
    /// `ring` provider cannot load the key; [`TlsError::is_bad_certificate`] when the
    /// end-entity certificate does not parse; [`TlsError::is_key_mismatch`] when the key is
    /// not the certificate's (their SubjectPublicKeyInfo differ).
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        if cert_chain.is_empty() {
            return Err(TlsError::new(Kind::NoCertificate));
        }
        let signing_key = rustls::crypto::ring::sign::any_supported_type(&private_key)
            .map_err(|e| TlsError::new(Kind::UnsupportedKey).with_source(e))?;
        let certified = CertifiedKey::new(cert_chain, signing_key);
        match certified.keys_match() {
            Ok(()) => {}
            // ring's keys always expose their public key; stay permissive if one does not.
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(e)) => {
                return Err(TlsError::new(Kind::KeyMismatch).with_source(format!("{e:?}")));
            }
            Err(e) => return Err(TlsError::new(Kind::BadCertificate).with_source(e)),
        }
        Ok(TlsConfig {
            certified: Arc::new(certified),
        })
    }

    /// The certificate chain, end-entity certificate first.
    pub fn cert_chain(&self) -> &[CertificateDer<'static>] {
        &self.certified.cert
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("certificates", &self.certified.cert.len())
            .finish_non_exhaustive()
    }
}

/// Maps a PEM parsing error; `empty` is the kind for "no section of the wanted type".
fn pem_error(error: pem::Error, empty: Kind) -> TlsError {
    match error {
        pem::Error::Io(e) => TlsError::new(Kind::MissingFile).with_source(e),
        pem::Error::NoItemsFound => TlsError::new(empty),
        other => TlsError::new(Kind::BadPem).with_source(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(name: &str) -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap()
    }

    #[test]
    fn pem_pair_loads() {
        let pair = generated("localhost");
        let config = TlsConfig::from_pem(
            pair.cert.pem().as_bytes(),
            pair.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        assert_eq!(config.cert_chain().len(), 1);
    }

    #[test]
    fn pem_files_load_and_swapped_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("uweb-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let pair = generated("files.test");
        std::fs::write(&cert, pair.cert.pem()).unwrap();
        std::fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        assert!(TlsConfig::from_pem_files(&cert, &key).is_ok());
        // Arguments swapped: the "certificate" file holds only a key.
        let err = TlsConfig::from_pem_files(&key, &cert).unwrap_err();
        assert!(
            err.is_bad_pem() && err.to_string().contains("key.pem"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn p384_and_ed25519_keys_load() {
        for alg in [&rcgen::PKCS_ECDSA_P384_SHA384, &rcgen::PKCS_ED25519] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            let cert = rcgen::CertificateParams::new(vec!["k.test".to_owned()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            let config = TlsConfig::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes());
            assert!(config.is_ok(), "{alg:?}: {:?}", config.err());
        }
    }

    #[test]
    fn mismatched_key_is_refused() {
        let (a, b) = (generated("a.test"), generated("b.test"));
        let err = TlsConfig::from_pem(
            a.cert.pem().as_bytes(),
            b.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap_err();
        assert!(err.is_key_mismatch(), "{err}");
    }

    #[test]
    fn garbage_and_empty_pem_are_bad_pem() {
        let pair = generated("a.test");
        let key = pair.signing_key.serialize_pem();
        let err = TlsConfig::from_pem(b"not pem at all", key.as_bytes()).unwrap_err();
        assert!(err.is_bad_pem(), "{err}");
        let truncated = &pair.cert.pem()[..100];
        let err = TlsConfig::from_pem(truncated.as_bytes(), key.as_bytes()).unwrap_err();
        assert!(err.is_bad_pem(), "{err}");
        let err = TlsConfig::from_pem(pair.cert.pem().as_bytes(), b"").unwrap_err();
        assert!(err.is_bad_pem(), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err =
            TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
        assert!(err.is_missing_file(), "{err}");
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn garbage_certificate_der_is_bad_certificate() {
        let pair = generated("a.test");
        let key = PrivateKeyDer::try_from(pair.signing_key.serialize_der()).unwrap();
        let err = TlsConfig::from_der(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])], key)
            .unwrap_err();
        assert!(err.is_bad_certificate(), "{err}");
    }
}
