#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A tiny Prometheus exporter for tests: GET /metrics answers `shop_error_ratio V`, V read from
the file given as argv[1] at every scrape (0 when absent). Prints its port, then serves."""
import http.server
import sys

VALUE_FILE = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with open(VALUE_FILE) as f:
                value = float(f.read().strip() or "0")
        except (OSError, ValueError):
            value = 0.0
        body = ("# HELP shop_error_ratio Share of 5xx answers.\n"
                "# TYPE shop_error_ratio gauge\n"
                f"shop_error_ratio {value}\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
