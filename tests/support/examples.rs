//! Running the examples as their users do: built by cargo, started as processes.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::wait_until;

/// A child process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds example `name` (debug, with `features`); returns the binary's path.
pub fn build_example(name: &str, features: &[&str]) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "--example", name]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let status = command.status().expect("run cargo");
    assert!(status.success(), "cargo build --example {name} failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("debug/examples").join(name)
}

/// A port free a moment ago on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts example `name` (built with `features`) on a free port with one loop and the
/// extra environment `env`; returns it once it accepts.
pub fn start_with(name: &str, features: &[&str], env: &[(&str, &str)]) -> (Running, SocketAddr) {
    let binary = build_example(name, features);
    let port = free_port();
    let child = Command::new(binary)
        .env("PORT", port.to_string())
        .env("THREADS", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the example");
    let running = Running(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_until("the example to accept", || TcpStream::connect(addr).is_ok());
    (running, addr)
}
