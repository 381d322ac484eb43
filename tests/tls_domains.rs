//! Routing domains chosen by SNI on TLS connections (uWebSockets' per-SNI routers): the SNI
//! name picks both the certificate and the router, a `Host` that disagrees with the SNI name
//! does not override it, and a plain listener of the same app still routes by `Host`.

mod support;

use std::net::{SocketAddr, TcpStream};

use support::Client;
use support::tls::{Pki, TlsClient};
use uweb::{App, Listen, Router, Server};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Default site for `localhost`, a `*.example.test` domain with its own certificate, and an
/// `api.example.test` domain sharing the wildcard certificate.
fn sites(pki: &Pki) -> (Server, rustls::pki_types::CertificateDer<'static>) {
    let default = pki.leaf(&["localhost"]);
    let example = pki.leaf(&["*.example.test"]);
    let app = App::tls(default.config)
        .get("/", |res, _req| res.end("default site"))
        .add_server_name("*.example.test", example.config)
        .domain(
            "*.example.test",
            Router::new().get("/", |res, _req| res.end("example.test site")),
        )
        .domain(
            "api.example.test",
            Router::new().get("/", |res, _req| res.end("api site")),
        );
    let server = app
        .threads(2)
        .bind_all(&[Listen::tls_addr(loopback()), Listen::plain_addr(loopback())])
        .unwrap();
    (server, example.der)
}

fn get_with_host(host: &str) -> String {
    format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n")
}

#[test]
fn sni_chooses_certificate_and_router() {
    let pki = Pki::new();
    let (server, example_der) = sites(&pki);
    let tls = server.local_addrs()[0];
    let config = pki.client_config();

    let mut www = TlsClient::connect(tls, "www.example.test", config.clone());
    assert_eq!(www.peer_certificate(), example_der);
    let resp = www.send(get_with_host("www.example.test")).response();
    assert_eq!(resp.body_str(), "example.test site");

    let mut api = TlsClient::connect(tls, "api.example.test", config.clone());
    assert_eq!(
        api.peer_certificate(),
        example_der,
        "exact domain, wildcard certificate"
    );
    assert_eq!(
        api.send(get_with_host("api.example.test"))
            .response()
            .body_str(),
        "api site"
    );

    let mut local = TlsClient::connect(tls, "localhost", config);
    assert_eq!(
        local.send(get_with_host("localhost")).response().body_str(),
        "default site"
    );
    server.shutdown();
}

#[test]
fn host_disagreeing_with_sni_is_routed_by_sni() {
    let pki = Pki::new();
    let (server, _) = sites(&pki);
    let tls = server.local_addrs()[0];
    let mut www = TlsClient::connect(tls, "www.example.test", pki.client_config());
    let resp = www.send(get_with_host("api.example.test")).response();
    assert_eq!(resp.body_str(), "example.test site");
    let resp = www.send(get_with_host("localhost")).response();
    assert_eq!(resp.body_str(), "example.test site");
    // No Host at all (HTTP/1.0): still the SNI name's router.
    let resp = www
        .send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .response();
    assert_eq!(resp.body_str(), "example.test site");

    let mut local = TlsClient::connect(tls, "localhost", pki.client_config());
    let resp = local.send(get_with_host("www.example.test")).response();
    assert_eq!(
        resp.body_str(),
        "default site",
        "SNI localhost matches no domain"
    );
    server.shutdown();
}

#[test]
fn plain_listener_of_the_same_app_routes_by_host() {
    let pki = Pki::new();
    let (server, _) = sites(&pki);
    let plain = server.local_addrs()[1];
    let mut c = Client::from_stream(TcpStream::connect(plain).unwrap());
    assert_eq!(
        c.request(get_with_host("www.example.test")).body_str(),
        "example.test site"
    );
    assert_eq!(
        c.request(get_with_host("api.example.test:80")).body_str(),
        "api site"
    );
    assert_eq!(
        c.request(get_with_host("localhost")).body_str(),
        "default site"
    );
    server.shutdown();
}

#[test]
fn no_sni_routes_by_host() {
    // A client connecting by IP address sends no SNI name: the Host field decides.
    let pki = Pki::new();
    let default = pki.leaf(&["127.0.0.1"]);
    let app = App::tls(default.config)
        .get("/", |res, _req| res.end("default site"))
        .domain(
            "*.example.test",
            Router::new().get("/", |res, _req| res.end("example")),
        );
    let server = support::tls::serve(app, 1);
    let mut c = TlsClient::connect(server.local_addr(), "127.0.0.1", pki.client_config());
    assert_eq!(
        c.send(get_with_host("a.example.test"))
            .response()
            .body_str(),
        "example"
    );
    assert_eq!(
        c.send(get_with_host("other")).response().body_str(),
        "default site"
    );
    server.shutdown();
}
