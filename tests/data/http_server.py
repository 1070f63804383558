#!/usr/bin/env python3
"""A small HTTP server for the http plugin's tests.

Usage: http_server.py [LOG_FILE]

Listens on 127.0.0.1 on a free port and prints the port on stdout's first
line. Every request is appended to LOG_FILE (when given) as "METHOD PATH".
Exits by itself after two minutes, so a test that dies leaves nothing behind.

Routes (any method):
  /health          200, JSON {"status": "up", "version": "1.2.3", ...}
  /text            200, "all systems ok"
  /status/CODE     CODE, "status CODE"
  /flaky/KEY       503 for the first two requests with KEY, then 200
  /slow            answers after 30 s
  /echo            200, JSON of the request: method, path, headers, body
  /redirect?to=P   302 to P
  /big             200, 2 MiB of "x"
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LIFETIME_SECONDS = 120
log_path = sys.argv[1] if len(sys.argv) > 1 else None
log_lock = threading.Lock()
flaky_hits = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def reply(self, code, body, content_type="text/plain", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        path = url.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        if log_path:
            with log_lock, open(log_path, "a") as log:
                log.write(f"{self.command} {path}\n")

        if path == "/health":
            self.reply(200, json.dumps({"status": "up", "version": "1.2.3",
                                        "checks": [{"name": "db", "ok": True}],
                                        "count": 3}),
                       "application/json")
        elif path == "/text":
            self.reply(200, "all systems ok\n")
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.reply(code, f"status {code}\n")
        elif path.startswith("/flaky/"):
            with log_lock:
                flaky_hits[path] = flaky_hits.get(path, 0) + 1
                hits = flaky_hits[path]
            if hits <= 2:
                self.reply(503, "not yet\n")
            else:
                self.reply(200, "recovered\n")
        elif path == "/slow":
            time.sleep(30)
            self.reply(200, "slow\n")
        elif path == "/echo":
            self.reply(200, json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body}), "application/json")
        elif path == "/redirect":
            target = parse_qs(url.query).get("to", ["/health"])[0]
            self.reply(302, "", headers={"Location": target})
        elif path == "/big":
            self.reply(200, "x" * (2 << 20))
        else:
            self.reply(404, "no such route\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    timer = threading.Timer(LIFETIME_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
