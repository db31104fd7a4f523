#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A TCP proxy to a Unix socket that can stop forwarding without closing anything: what a pooler
# or a proxy does when the database behind it is unreachable, or a partition with the
# connection still open. Usage: stall_proxy.py PORT UNIX_SOCKET. SIGUSR1: stop moving bytes
# (both ways; new connections are accepted by the kernel and left waiting); SIGUSR2: move them
# again. The kernel keeps acknowledging what is sent, so neither TCP keepalives nor
# tcp_user_timeout notice: only the client's own deadline does.
import signal
import socket
import sys
import threading
import time

port, target = int(sys.argv[1]), sys.argv[2]
stalled = [False]
signal.signal(signal.SIGUSR1, lambda *_: stalled.__setitem__(0, True))
signal.signal(signal.SIGUSR2, lambda *_: stalled.__setitem__(0, False))


def hold():
    while stalled[0]:
        time.sleep(0.05)


def pump(src, dst):
    try:
        while True:
            hold()
            src.settimeout(0.1)
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            hold()
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    hold()
    upstream = socket.socket(socket.AF_UNIX)
    try:
        upstream.connect(target)
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
print("listening", flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
