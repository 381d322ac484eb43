//! HTTPS with per-SNI certificates and routers (uWebSockets' `SSLApp`, `addServerName` and
//! `domain`): `https://localhost/` answers `default site`, `https://www.example.test/` (any
//! one label before `example.test`) answers `example.test site` with its own certificate.
//!
//! Run: `PORT=8443 cargo run --release --example tls_sni`. With `TLS_CERT` and `TLS_KEY`
//! (PEM files) set, they are the default certificate; otherwise self-signed certificates
//! for `localhost` and for `*.example.test` are generated at start-up. `THREADS=1` runs one
//! loop (for load runs pinned to one core).

mod common;

use uweb::{App, Router, TlsConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = common::port(8443);
    let threads = common::threads();
    let default = match (std::env::var("TLS_CERT"), std::env::var("TLS_KEY")) {
        (Ok(cert), Ok(key)) => TlsConfig::from_pem_files(cert, key)?,
        _ => self_signed(&["localhost", "127.0.0.1"])?,
    };
    let example = self_signed(&["*.example.test"])?;

    println!("listening on https://localhost:{port} with {threads} loop(s); try:");
    println!("  curl -k --resolve localhost:{port}:127.0.0.1 https://localhost:{port}/");
    println!(
        "  curl -k --resolve www.example.test:{port}:127.0.0.1 https://www.example.test:{port}/"
    );
    println!(
        "  openssl s_client -servername www.example.test -connect 127.0.0.1:{port} </dev/null \\
         | openssl x509 -noout -ext subjectAltName"
    );

    App::tls(default)
        .threads(threads)
        .get("/", |res, _req| res.end("default site\n"))
        .get("/plaintext", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb")
                .end("Hello, World!");
        })
        // The SNI name picks the certificate, then the router (the Host field on plain TCP).
        .add_server_name("*.example.test", example)
        .domain(
            "*.example.test",
            Router::new().get("/", |res, _req| res.end("example.test site\n")),
        )
        .listen(port)?;
    Ok(())
}

/// A self-signed certificate for `names`, generated now (for trying things out only).
fn self_signed(names: &[&str]) -> Result<TlsConfig, Box<dyn std::error::Error>> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let generated = rcgen::generate_simple_self_signed(names)?;
    let config = TlsConfig::from_pem(
        generated.cert.pem().as_bytes(),
        generated.signing_key.serialize_pem().as_bytes(),
    )?;
    Ok(config)
}
