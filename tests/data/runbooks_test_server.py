#!/usr/bin/env python3
"""A small HTTP(S) server for the tests of the runbooks in runbooks/.

Usage: runbooks_test_server.py [--tls CERT_FILE KEY_FILE] [--log LOG_FILE]

Listens on 127.0.0.1 on a free port and prints the port on stdout's first
line. With --tls it speaks HTTPS with the given certificate and key (the
certificate is what `openssl s_client` sees). Every request is appended to
LOG_FILE (when given) as "METHOD PATH". Exits by itself after two minutes, so
a test that dies leaves nothing behind.

Routes (GET and HEAD):
  /ok              200, "ok"
  /status/CODE     CODE, "status CODE"
  /delay/MS        200 after MS milliseconds
  /cycle/N/CODE    the first of every N requests to this path gets CODE,
                   the others 200
"""

import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIFETIME_SECONDS = 120
log_lock = threading.Lock()
cycle_hits = {}


def parse_args(argv):
    tls, log = None, None
    i = 0
    while i < len(argv):
        if argv[i] == "--tls" and i + 2 < len(argv):
            tls = (argv[i + 1], argv[i + 2])
            i += 3
        elif argv[i] == "--log" and i + 1 < len(argv):
            log = argv[i + 1]
            i += 2
        else:
            sys.exit(f"usage: {sys.argv[0]} [--tls CERT KEY] [--log FILE]")
    return tls, log


TLS, LOG_PATH = parse_args(sys.argv[1:])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        path = self.path.split("?", 1)[0]
        if LOG_PATH:
            with log_lock, open(LOG_PATH, "a") as log:
                log.write(f"{self.command} {path}\n")
        parts = path.strip("/").split("/")
        try:
            if path == "/ok":
                self.reply(200, "ok\n")
            elif parts[0] == "status" and len(parts) == 2:
                code = int(parts[1])
                self.reply(code, f"status {code}\n")
            elif parts[0] == "delay" and len(parts) == 2:
                time.sleep(int(parts[1]) / 1000)
                self.reply(200, "late\n")
            elif parts[0] == "cycle" and len(parts) == 3:
                with log_lock:
                    hits = cycle_hits.get(path, 0)
                    cycle_hits[path] = hits + 1
                self.reply(int(parts[2]) if hits % int(parts[1]) == 0 else 200, "cycle\n")
            else:
                self.reply(404, "no such route\n")
        except ValueError:
            self.reply(400, "bad number in the path\n")

    do_GET = do_HEAD = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if TLS:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS[0], TLS[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    timer = threading.Timer(LIFETIME_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
