#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A web service for tests, on 127.0.0.1: answers 200 until the file FAIL_FLAG exists, then 500.
Prints its port on stdout's first line; logs each answer as 'EPOCH_SECONDS STATUS' to LOG."""
import http.server
import os
import sys
import time

FLAG, LOG = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 500 if os.path.exists(FLAG) else 200
        body = b"broken\n" if status == 500 else b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(LOG, "a") as f:
            f.write("%.3f %d\n" % (time.time(), status))

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
