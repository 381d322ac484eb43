#!/usr/bin/env python3
"""Bytes of server RSS per idle keep-alive HTTPS connection (the TLS twin of idle_http.py).

Usage: PORT=3459 THREADS=1 target/release/examples/tls_sni &
       python3 benches/idle_https.py 3459 2000 $(pgrep -f examples/tls_sni)
Opens N TLS connections (no certificate check: the example's certificates are self-signed),
sends one GET /plaintext on each, waits for the answers, then reports
(RSS after - RSS before) / N. Needs ulimit -n above N.
"""
import socket, ssl, resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
time.sleep(0.3)
r0 = rss()
socks = []
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    socks.append(s)
for s in socks:
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
for s in socks:
    d = b""
    while not d.endswith(b"Hello, World!"):
        d += s.recv(4096)
time.sleep(1)
r1 = rss()
print(f"conns={n} rss0_kb={r0} rss1_kb={r1} bytes_per_conn={(r1-r0)*1024/n:.0f}")
