#!/usr/bin/env python3
"""A fast local stand-in for STS: canned GetSessionToken / AssumeRole answers, no signature check.

Used by the benchmarks so that STS time is (almost) nothing and what is measured is credd.
Every session it issues expires SESSION_SECONDS from now (12 h by default), so no renewal falls
inside a benchmark. GET /__requests answers how many STS calls it has served; GET /__timings
lists each call's action and when it was served, on time.monotonic() (CLOCK_MONOTONIC, the
clock the harness uses too): `arrived` once its request line was read, `sent` once the whole
response was written. What comes before `arrived` (connect, accept, the handler thread's start)
is not counted, so "STS time" derived from these is, if anything, too small.

    python3 fake_sts.py PORT [--session-seconds N]
"""
import argparse
import datetime
import itertools
import json
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE = """<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <Credentials>
      <AccessKeyId>ASIAFAKE{serial:012d}</AccessKeyId>
      <SecretAccessKey>fake-secret-{serial:032d}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>{assumed}
  </{action}Result>
  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>
</{action}Response>
"""
ASSUMED = """
    <AssumedRoleUser>
      <Arn>{arn}/bench</Arn>
      <AssumedRoleId>AROAFAKE:bench</AssumedRoleId>
    </AssumedRoleUser>"""


class FakeSTS(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real STS
    # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
    # the client's delayed ACK (~40 ms) on a keep-alive connection, which throttled the
    # 1,000-profile pass to 8 connections / 47 ms = 170 calls/s.
    disable_nagle_algorithm = True
    serials = itertools.count(1)
    served = 0
    timings = []
    lock = threading.Lock()
    session_seconds = 43200

    def log_message(self, *args):  # one line per request would cost more than the answer
        pass

    def parse_request(self):
        self.arrived = time.monotonic()
        return super().parse_request()

    def do_GET(self):
        with self.lock:
            served, timings = FakeSTS.served, list(FakeSTS.timings)
        if self.path == "/__requests":
            return self.reply(200, str(served).encode(), "text/plain")
        if self.path == "/__timings":
            return self.reply(200, json.dumps(timings).encode(), "application/json")
        self.reply(404, b"not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        action = form.get("Action", [""])[0]
        if action not in ("GetSessionToken", "AssumeRole"):
            return self.reply(400, b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>", "text/xml")
        with self.lock:
            FakeSTS.served += 1
            serial = next(self.serials)
        expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.session_seconds)
        body = RESPONSE.format(
            action=action,
            serial=serial,
            token="FakeSessionToken" + "x" * 380 + str(serial),
            expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            assumed=ASSUMED.format(arn=form.get("RoleArn", [""])[0].replace(":role/", ":assumed-role/")) if action == "AssumeRole" else "",
            request_id=uuid.uuid4(),
        )
        self.reply(200, body.encode(), "text/xml")
        sent = time.monotonic()
        with self.lock:
            FakeSTS.timings.append({"action": action, "arrived": self.arrived, "sent": sent})

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (the crash suite kills credd) is expected, not a
    traceback on the console."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--session-seconds", type=int, default=43200)
    arguments = parser.parse_args()
    FakeSTS.session_seconds = arguments.session_seconds
    QuietServer(("127.0.0.1", arguments.port), FakeSTS).serve_forever()


if __name__ == "__main__":
    main()
