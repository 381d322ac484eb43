#!/usr/bin/env python3
"""Bytes of server RSS per idle keep-alive HTTP connection.

Usage: PORT=3458 THREADS=1 target/release/examples/hello_world &
       python3 benches/idle_http.py 3458 10000 $(pgrep -f examples/hello_world)
Opens N connections, sends one GET /plaintext on each, waits for the answers, then reports
(RSS after - RSS before) / N. Needs ulimit -n above N.
"""
import socket, resource, sys, time, os
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
time.sleep(0.3)
r0 = rss()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    socks.append(s)
# one request each so every connection went through a full keep-alive exchange
for s in socks:
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
for s in socks:
    d = b""
    while not d.endswith(b"Hello, World!"):
        d += s.recv(4096)
time.sleep(1)
r1 = rss()
print(f"conns={n} rss0_kb={r0} rss1_kb={r1} bytes_per_conn={(r1-r0)*1024/n:.0f}")
