//! SNI chooses the certificate: exact names, wildcards (`*` is one label), the default as
//! fallback, `missing_server_name` adding a name on the spot, and changes while serving.
//! The client verifies each certificate against the test CA for the name it sent, and the
//! tests compare the presented certificate with the one expected.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::tls::{Leaf, Pki, TlsClient};
use uweb::{App, Server};

struct Site {
    pki: Pki,
    default: Leaf,
    wildcard: Leaf,
    exact: Leaf,
    server: Server,
}

/// Default certificate for `localhost`, `*.example.test`, and `api.example.test`.
fn site() -> Site {
    let pki = Pki::new();
    let default = pki.leaf(&["localhost", "fallback.test", "127.0.0.1"]);
    let wildcard = pki.leaf(&["*.example.test"]);
    let exact = pki.leaf(&["api.example.test"]);
    let app = App::tls(default.config.clone())
        .get("/", |res, _req| res.end("ok"))
        .add_server_name("*.example.test", wildcard.config.clone())
        .add_server_name("API.example.test", exact.config.clone());
    let server = support::tls::serve(app, 2);
    Site {
        pki,
        default,
        wildcard,
        exact,
        server,
    }
}

impl Site {
    fn presented(&self, name: &str) -> rustls::pki_types::CertificateDer<'static> {
        let mut client =
            TlsClient::connect(self.server.local_addr(), name, self.pki.client_config());
        assert_eq!(client.send(support::get("/")).response().body_str(), "ok");
        client.peer_certificate()
    }
}

#[test]
fn exact_wildcard_and_default() {
    let site = site();
    assert_eq!(site.presented("api.example.test"), site.exact.der);
    assert_eq!(site.presented("www.example.test"), site.wildcard.der);
    assert_eq!(site.presented("WWW.Example.Test"), site.wildcard.der);
    assert_eq!(site.presented("localhost"), site.default.der);
    // No pattern matches: the default certificate answers (and is valid for this name).
    assert_eq!(site.presented("fallback.test"), site.default.der);
    // An IP address sends no SNI: the default.
    assert_eq!(site.presented("127.0.0.1"), site.default.der);
    site.server.shutdown();
}

#[test]
fn wildcard_is_exactly_one_label() {
    let site = site();
    let config = site.pki.client_config();
    // `a.b.example.test` gets the default certificate, which is not valid for it: the
    // client's verification fails rather than the wildcard being stretched.
    let err = TlsClient::try_connect(site.server.local_addr(), "a.b.example.test", config.clone());
    assert!(err.is_err());
    let err = TlsClient::try_connect(site.server.local_addr(), "example.test", config);
    assert!(err.is_err());
    // The server goes on.
    assert_eq!(site.presented("x.example.test"), site.wildcard.der);
    site.server.shutdown();
}

#[test]
fn missing_server_name_adds_a_name_on_the_spot() {
    let pki = Pki::new();
    let default = pki.leaf(&["localhost"]);
    let late = pki.leaf(&["late.test"]);
    let calls = Arc::new(AtomicUsize::new(0));
    let (supplied, counter) = (late.config.clone(), Arc::clone(&calls));
    let app = App::tls(default.config.clone())
        .get("/", |res, _req| res.end("ok"))
        .missing_server_name(move |name| {
            counter.fetch_add(1, Ordering::SeqCst);
            (name == "late.test").then(|| supplied.clone())
        });
    let server = support::tls::serve(app, 2);
    let config = pki.client_config();

    let client = TlsClient::connect(server.local_addr(), "late.test", config.clone());
    assert_eq!(client.peer_certificate(), late.der);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The name was added: the next handshakes (on any loop) find it without asking.
    for _ in 0..4 {
        let client = TlsClient::connect(server.local_addr(), "late.test", config.clone());
        assert_eq!(client.peer_certificate(), late.der);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(format!("{:?}", server.server_names().unwrap()).contains("late.test"));

    // A name the callback declines gets the default certificate.
    let client = TlsClient::connect(server.local_addr(), "localhost", config);
    assert_eq!(client.peer_certificate(), default.der);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    server.shutdown();
}

#[test]
fn names_change_while_serving() {
    let site = site();
    let names = site
        .server
        .server_names()
        .expect("a TLS server has server names");
    let other = site.pki.leaf(&["*.example.test"]);
    names.add("*.example.test", other.config.clone()).unwrap();
    assert_eq!(site.presented("www.example.test"), other.der);
    assert!(names.remove("api.example.test"));
    assert_eq!(site.presented("api.example.test"), other.der);
    assert!(names.remove("*.example.test"));
    let err = TlsClient::try_connect(
        site.server.local_addr(),
        "www.example.test",
        site.pki.client_config(),
    );
    assert!(
        err.is_err(),
        "the default certificate does not cover www.example.test"
    );
    assert!(
        names
            .add("bad..name", other.config)
            .unwrap_err()
            .is_bad_pattern()
    );
    site.server.shutdown();
}

#[test]
fn no_certificate_at_all_fails_the_handshake_with_an_alert() {
    let pki = Pki::new();
    let only = pki.leaf(&["only.test"]);
    let app = App::new()
        .get("/", |res, _req| res.end("ok"))
        .add_server_name("only.test", only.config.clone());
    let server = support::tls::serve(app, 1);
    let err = TlsClient::try_connect(server.local_addr(), "other.test", pki.client_config())
        .err()
        .expect("no certificate for other.test");
    assert!(err.to_string().to_lowercase().contains("alert"), "{err}");
    let client = TlsClient::connect(server.local_addr(), "only.test", pki.client_config());
    assert_eq!(client.peer_certificate(), only.der);
    server.shutdown();
}
