//! TLS test helpers: a throw-away CA issuing certificates with `rcgen` at test time, and a
//! blocking rustls client (`rustls::StreamOwned` over a `TcpStream`) that verifies the
//! server's certificate against that CA for the name it sends as SNI.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use uweb::{App, Server, TlsConfig};

use super::{DEADLINE, Response, read_response};

/// Starts `app` (which has its own certificates) on an ephemeral loopback port, whether or
/// not the plain suites run over TLS.
pub fn serve(app: App, threads: usize) -> Server {
    app.threads(threads).bind("127.0.0.1:0").expect("bind")
}

/// A test certificate authority.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate issued by [`Pki`], as the server loads it and as the client should see it.
#[derive(Clone)]
pub struct Leaf {
    pub config: TlsConfig,
    pub der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { ca }
    }

    /// A leaf certificate for `names` (DNS names, `*.x` wildcards allowed), signed by the CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.ca)
            .unwrap();
        let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
        let config = TlsConfig::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
        Leaf {
            config,
            der: cert.der().clone(),
            cert_pem,
            key_pem,
        }
    }

    /// A root store holding only this CA.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        roots
    }

    /// A client configuration trusting only this CA, offering ALPN `http/1.1`.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let roots = self.roots();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// A TLS client speaking hand-written HTTP bytes.
pub struct TlsClient {
    pub stream: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl TlsClient {
    /// Connects and completes the handshake for SNI name `name` (an IP address sends no SNI).
    pub fn connect(addr: SocketAddr, name: &str, config: Arc<ClientConfig>) -> TlsClient {
        Self::try_connect(addr, name, config).expect("TLS handshake")
    }

    /// Like `connect`, returning the handshake error instead of panicking.
    pub fn try_connect(
        addr: SocketAddr,
        name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<TlsClient, std::io::Error> {
        let server_name = ServerName::try_from(name.to_owned()).unwrap();
        let conn = ClientConnection::new(config, server_name).unwrap();
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(DEADLINE))?;
        tcp.set_nodelay(true)?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(TlsClient {
            stream,
            buf: Vec::new(),
        })
    }

    /// The end-entity certificate the server presented.
    pub fn peer_certificate(&self) -> CertificateDer<'static> {
        self.stream
            .conn
            .peer_certificates()
            .expect("a server certificate")[0]
            .clone()
            .into_owned()
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        self.stream.write_all(bytes.as_ref()).expect("write");
        self.stream.flush().expect("flush");
        self
    }

    /// Reads one whole response (Content-Length or chunked framing, or until close).
    pub fn response(&mut self) -> Response {
        read_response(&mut self.stream, &mut self.buf)
    }

    /// Reads until the server ends the stream; true when it sent `close_notify` first (a clean
    /// TLS close), false when the TCP stream just ended or was reset.
    pub fn closed_cleanly(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return false,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return false,
                Err(e) => panic!("no close in time: {e}"),
            }
        }
    }
}

/// Waits until the server closes `stream`, returning every byte it sent before closing.
/// Panics if the connection is still open at the deadline.
pub fn read_until_close(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("server did not close within {DEADLINE:?}: {e}"),
        }
    }
}

/// A TLS alert record: content type 21 (RFC 8446 section 5.1), e.g. `decode_error`.
pub fn is_alert(bytes: &[u8]) -> bool {
    bytes.len() >= 7 && bytes[0] == 21 && bytes[1] == 3
}

/// The first flight a real rustls client sends: its ClientHello record(s), as bytes.
pub fn client_hello(config: Arc<ClientConfig>, name: &str) -> Vec<u8> {
    let server_name = ServerName::try_from(name.to_owned()).unwrap();
    let mut conn = ClientConnection::new(config, server_name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

/// Waits for `f` to hold, polling; for state changed by another thread (no timing assumed).
pub fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "condition not met in time");
        std::thread::sleep(Duration::from_millis(10));
    }
}
