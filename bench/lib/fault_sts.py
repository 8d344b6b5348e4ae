#!/usr/bin/env python3
"""A local STS that misbehaves on a schedule, for the fault suite: the phases of FAULT_CYCLE
repeat from its start, each --phase-seconds long (`outage` lasts --outage-seconds, longer than a
session, so credentials must run out). Every session it issues lasts --session-seconds.

    GET /__ledger   every session issued: access key id, action, role, issued_at, expiration
    GET /__phases   the schedule: [start, end, phase] in its own time.time()

    python3 fault_sts.py PORT [--session-seconds 24] [--phase-seconds 6] [--outage-seconds 40]
"""
import argparse
import datetime
import email.utils
import itertools
import json
import socket
import threading
import time
import urllib.parse
import uuid

from fake_sts import ASSUMED, RESPONSE, FakeSTS, QuietServer

FAULT_CYCLE = ["ok", "5xx", "ok", "throttle", "ok", "reset", "ok", "malformed", "ok", "stall", "ok", "skew",
               "ok", "expired-source", "ok", "outage"]
SKEW_SECONDS = 30 * 60
ERROR = "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"


class Schedule:
    def __init__(self, phase_seconds, outage_seconds, cycles):
        self.phases = []
        start = time.time()
        for _ in range(cycles):
            for phase in FAULT_CYCLE:
                length = outage_seconds if phase == "outage" else phase_seconds
                self.phases.append((start, start + length, phase))
                start += length

    def current(self):
        now = time.time()
        for start, end, phase in self.phases:
            if start <= now < end:
                return phase
        return "ok"


class FaultSTS(FakeSTS):
    serials = itertools.count(1)
    lock = threading.Lock()
    ledger = []
    schedule = None
    session_seconds = 24

    def do_GET(self):
        if self.path == "/__ledger":
            with self.lock:
                body = json.dumps(self.ledger)
        elif self.path == "/__phases":
            body = json.dumps(self.schedule.phases)
        else:
            return self.reply(404, b"not found", "text/plain")
        self.reply(200, body.encode(), "application/json")

    def error(self, status, code, message, kind="Sender", date=None):
        self.date_override = date
        self.reply(status, ERROR.format(kind=kind, code=code, message=message, id=uuid.uuid4()).encode(), "text/xml")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        action = form.get("Action", [""])[0]
        phase = self.schedule.current()
        if phase == "5xx":
            return self.error(503, "ServiceUnavailable", "injected outage", kind="Receiver")
        if phase == "outage":
            return self.error(500, "InternalFailure", "injected long outage", kind="Receiver")
        if phase == "throttle":
            return self.error(400, "Throttling", "Rate exceeded")
        if phase == "reset":
            # An RST instead of an answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        if phase == "stall":
            time.sleep(20)  # longer than credd's read timeout
            self.close_connection = True
            return
        if phase == "malformed":
            return self.reply(200, b"<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>ASIA", "text/xml")
        if phase == "skew":
            server_now = time.time() + SKEW_SECONDS
            signed = self.headers.get("X-Amz-Date", "")
            try:
                signed_at = datetime.datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
            except ValueError:
                signed_at = 0
            if abs(signed_at - server_now) > 5 * 60:
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(server_now))
                return self.error(403, "SignatureDoesNotMatch",
                                  f"Signature expired: {signed} is now earlier than {stamp} ({stamp} - 5 min.)",
                                  date=email.utils.formatdate(server_now, usegmt=True))
        if phase == "expired-source" and action == "AssumeRole":
            return self.error(400, "ExpiredToken", "The security token included in the request is expired")
        if action not in ("GetSessionToken", "AssumeRole"):
            return self.error(400, "InvalidAction", "unknown action")
        with self.lock:
            serial = next(self.serials)
        issued = time.time()
        expiration = datetime.datetime.fromtimestamp(issued + self.session_seconds, datetime.timezone.utc).replace(microsecond=0)
        key = f"ASIAFAKE{serial:012d}"
        body = RESPONSE.format(
            action=action, serial=serial, token="FaultSessionToken" + "y" * 300 + str(serial),
            expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            assumed=ASSUMED.format(arn=form.get("RoleArn", [""])[0].replace(":role/", ":assumed-role/")) if action == "AssumeRole" else "",
            request_id=uuid.uuid4())
        with self.lock:
            self.ledger.append({"key": key, "action": action, "role": form.get("RoleArn", [""])[0],
                                "issued_at": issued, "expiration": expiration.timestamp(), "phase": phase})
        self.reply(200, body.encode(), "text/xml")

    def date_time_string(self, timestamp=None):
        # send_response adds Date itself; the skew phase answers with the server's own clock.
        date, self.date_override = getattr(self, "date_override", None), None
        return date or super().date_time_string(timestamp)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--session-seconds", type=int, default=24)
    parser.add_argument("--phase-seconds", type=float, default=6)
    parser.add_argument("--outage-seconds", type=float, default=40)
    parser.add_argument("--cycles", type=int, default=1)
    arguments = parser.parse_args()
    FaultSTS.session_seconds = arguments.session_seconds
    FaultSTS.schedule = Schedule(arguments.phase_seconds, arguments.outage_seconds, arguments.cycles)
    QuietServer(("127.0.0.1", arguments.port), FaultSTS).serve_forever()


if __name__ == "__main__":
    main()
