#!/usr/bin/env python3
"""The "small Python stand-in" of issue 7: a ThreadingHTTPServer answering every GET with one
JSON file, keep-alive on. What a user might write instead of credd's endpoint.

    python3 python_standin.py PORT JSON_FILE
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY each response waits ~40 ms
    # for the client's delayed ACK.
    disable_nagle_algorithm = True
    body = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def main():
    port, json_file = int(sys.argv[1]), sys.argv[2]
    with open(json_file, "rb") as file:
        StandIn.body = file.read()
    server = ThreadingHTTPServer(("127.0.0.1", port), StandIn)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
