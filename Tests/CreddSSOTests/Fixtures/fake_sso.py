#!/usr/bin/env python3
"""A fake IAM Identity Center (sso-oidc and the sso portal) on loopback, for credd's tests.

Speaks the rest-json wire format of botocore's `sso-oidc` and `sso` models (boto3_conformance.py
proves it with boto3's own clients). GetRoleCredentials mints real session credentials from a
moto_server's STS when --moto is given, so the credentials it serves can make signed calls.

Test-only control endpoints, never part of the real API:
  GET  /_fake/state   -> counters and the last requests' parameters
  POST /_fake/config  <- JSON overrides of CONFIG (e.g. {"pending_polls": 2, "slow_down_polls": 1})
  POST /_fake/end-session -> every refresh token is refused from now on (invalid_grant)
"""
import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = {
    "access_token_lifetime": 3600,
    "registration_lifetime": 90 * 24 * 3600,
    "device_code_lifetime": 600,
    "device_interval": 1,
    # Device-code polls answered AuthorizationPending, then SlowDown, before the approval.
    "pending_polls": 0,
    "slow_down_polls": 0,
    # The device code expires on the next poll (ExpiredTokenException).
    "expire_device_codes": False,
    # A refresh returns a new refresh token (rotation) when true.
    "rotate_refresh_tokens": True,
    # The next N ListAccountRoles calls are throttled (TooManyRequestsException, HTTP 429).
    "throttle_roles": 0,
    "accounts": [
        {"accountId": "111111111111", "accountName": "dev", "emailAddress": "dev@example.com", "roles": ["Developer", "ReadOnly"]},
    ],
}

LOCK = threading.Lock()
STATE = {
    "clients": {},          # clientId -> {secret, expires, grantTypes, redirectUris}
    "device_codes": {},     # deviceCode -> {clientId, polls, expires}
    "auth_codes": {},       # code -> {clientId, challenge, redirect_uri}
    "access_tokens": {},    # accessToken -> expiry
    "refresh_tokens": {},   # refreshToken -> clientId
    "session_ended": False,
    "counts": {},
    "last": {},
}
MOTO = None


def count(name):
    STATE["counts"][name] = STATE["counts"].get(name, 0) + 1


def issue_tokens(client_id, with_refresh):
    access = "aoa" + secrets.token_urlsafe(24)
    STATE["access_tokens"][access] = time.time() + CONFIG["access_token_lifetime"]
    body = {"accessToken": access, "tokenType": "Bearer", "expiresIn": CONFIG["access_token_lifetime"]}
    if with_refresh:
        refresh = "aor" + secrets.token_urlsafe(24)
        STATE["refresh_tokens"][refresh] = client_id
        body["refreshToken"] = refresh
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- plumbing ------------------------------------------------------------------------------
    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", secrets.token_hex(8))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def oidc_error(self, status, code, oauth_error, description):
        # As sso-oidc answers: the model's name in x-amzn-ErrorType, the OAuth error in the body.
        self.send_json(status, {"error": oauth_error, "error_description": description},
                       {"x-amzn-ErrorType": code + ":http://internal.amazon.com/coral/com.amazonaws.ssooidc/"})

    def portal_error(self, status, code, message):
        self.send_json(status, {"message": message}, {"x-amzn-ErrorType": code})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw or b"{}")

    def client(self, request):
        client = STATE["clients"].get(request.get("clientId"))
        if not client or client["secret"] != request.get("clientSecret"):
            return None
        return client

    # -- routes --------------------------------------------------------------------------------
    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        with LOCK:
            request = self.body()
            count("POST " + path)
            if path == "/client/register":
                return self.register(request)
            if path == "/device_authorization":
                return self.device_authorization(request)
            if path == "/token":
                return self.token(request)
            if path == "/_fake/config":
                CONFIG.update(request)
                return self.send_json(200, CONFIG)
            if path == "/_fake/end-session":
                STATE["session_ended"] = True
                return self.send_json(200, {})
        self.send_json(404, {"message": "no route " + path})

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        with LOCK:
            count("GET " + parts.path)
            if parts.path == "/authorize":
                return self.authorize(query)
            if parts.path == "/_fake/state":
                return self.send_json(200, {"counts": STATE["counts"], "last": STATE["last"],
                                            "registrations": len(STATE["clients"])})
            if parts.path in ("/federation/credentials", "/assignment/accounts", "/assignment/roles"):
                expiry = STATE["access_tokens"].get(self.headers.get("x-amz-sso_bearer_token", ""))
                if expiry is None or expiry <= time.time():
                    return self.portal_error(401, "UnauthorizedException", "Session token not found or invalid")
                if "max_result" in query and not 1 <= int(query["max_result"]) <= 100:
                    return self.portal_error(400, "InvalidRequestException", "max_result must be between 1 and 100")
                if parts.path == "/federation/credentials":
                    return self.role_credentials(query)
                if parts.path == "/assignment/accounts":
                    items = [{k: a[k] for k in ("accountId", "accountName", "emailAddress")} for a in CONFIG["accounts"]]
                    return self.page(query, items, "accountList")
                if CONFIG["throttle_roles"] > 0:
                    CONFIG["throttle_roles"] -= 1
                    return self.portal_error(429, "TooManyRequestsException", "Rate exceeded")
                account = next((a for a in CONFIG["accounts"] if a["accountId"] == query.get("account_id")), None)
                if account is None:
                    return self.portal_error(404, "ResourceNotFoundException", "No such account")
                items = [{"roleName": r, "accountId": account["accountId"]} for r in account["roles"]]
                return self.page(query, items, "roleList")
        self.send_json(404, {"message": "no route " + parts.path})

    # -- sso-oidc ------------------------------------------------------------------------------
    def register(self, request):
        if not request.get("clientName") or request.get("clientType") != "public":
            return self.oidc_error(400, "InvalidRequestException", "invalid_request", "clientName and clientType=public required")
        client_id = "client-" + secrets.token_hex(8)
        now = int(time.time())
        STATE["clients"][client_id] = {
            "secret": "secret-" + secrets.token_urlsafe(24), "expires": now + CONFIG["registration_lifetime"],
            "grantTypes": request.get("grantTypes") or [], "redirectUris": request.get("redirectUris") or [],
            "scopes": request.get("scopes") or [],
        }
        STATE["last"]["register"] = {k: request.get(k) for k in ("clientName", "scopes", "grantTypes", "redirectUris", "issuerUrl")}
        client = STATE["clients"][client_id]
        self.send_json(200, {"clientId": client_id, "clientSecret": client["secret"], "clientIdIssuedAt": now,
                             "clientSecretExpiresAt": client["expires"]})

    def device_authorization(self, request):
        if self.client(request) is None:
            return self.oidc_error(400, "InvalidClientException", "invalid_client", "Invalid client")
        code = "device-" + secrets.token_urlsafe(16)
        STATE["device_codes"][code] = {"clientId": request["clientId"], "polls": 0,
                                       "expires": time.time() + CONFIG["device_code_lifetime"]}
        user_code = "ABCD-" + secrets.token_hex(2).upper()
        base = "https://device.sso.fake/"
        self.send_json(200, {"deviceCode": code, "userCode": user_code, "verificationUri": base,
                             "verificationUriComplete": base + "?user_code=" + user_code,
                             "expiresIn": CONFIG["device_code_lifetime"], "interval": CONFIG["device_interval"]})

    def authorize(self, query):
        # Approves at once, as a signed-in user would, and redirects back with the code.
        client = STATE["clients"].get(query.get("client_id"))
        redirect = urllib.parse.urlsplit(query.get("redirect_uri", ""))
        if client is None or "authorization_code" not in client["grantTypes"]:
            return self.send_json(400, {"message": "client not registered for authorization_code"})
        if redirect.hostname != "127.0.0.1" or redirect.path != "/oauth/callback" or query.get("response_type") != "code" \
                or query.get("code_challenge_method") != "S256" or not query.get("code_challenge") or not query.get("state"):
            return self.send_json(400, {"message": "bad authorize request"})
        STATE["last"]["authorize"] = {k: query.get(k) for k in ("redirect_uri", "scopes", "state", "code_challenge")}
        code = "code-" + secrets.token_urlsafe(16)
        STATE["auth_codes"][code] = {"clientId": query["client_id"], "challenge": query["code_challenge"],
                                     "redirect_uri": query["redirect_uri"]}
        location = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def token(self, request):
        client = self.client(request)
        if client is None:
            return self.oidc_error(400, "InvalidClientException", "invalid_client", "Invalid client")
        grant = request.get("grantType")
        count("grant " + str(grant))
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = STATE["device_codes"].get(request.get("deviceCode"))
            if device is None or device["clientId"] != request["clientId"]:
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid device code")
            if CONFIG["expire_device_codes"] or device["expires"] <= time.time():
                return self.oidc_error(400, "ExpiredTokenException", "expired_token", "Device code expired")
            device["polls"] += 1
            if device["polls"] <= CONFIG["pending_polls"]:
                return self.oidc_error(400, "AuthorizationPendingException", "authorization_pending", "Pending")
            if device["polls"] <= CONFIG["pending_polls"] + CONFIG["slow_down_polls"]:
                return self.oidc_error(400, "SlowDownException", "slow_down", "Slow down")
            del STATE["device_codes"][request["deviceCode"]]
            return self.send_json(200, issue_tokens(request["clientId"], bool(client["scopes"])))
        if grant == "authorization_code":
            code = STATE["auth_codes"].pop(request.get("code"), None)
            verifier = request.get("codeVerifier") or ""
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if code is None or code["clientId"] != request["clientId"] or code["redirect_uri"] != request.get("redirectUri"):
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid authorization code")
            if len(verifier) < 43 or challenge != code["challenge"]:
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "PKCE verification failed")
            return self.send_json(200, issue_tokens(request["clientId"], True))
        if grant == "refresh_token":
            owner = STATE["refresh_tokens"].get(request.get("refreshToken"))
            if owner != request["clientId"] or STATE["session_ended"]:
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided")
            body = issue_tokens(request["clientId"], CONFIG["rotate_refresh_tokens"])
            if CONFIG["rotate_refresh_tokens"]:
                del STATE["refresh_tokens"][request["refreshToken"]]
            return self.send_json(200, body)
        self.oidc_error(400, "UnsupportedGrantTypeException", "unsupported_grant_type", "Unsupported grant type")

    # -- portal --------------------------------------------------------------------------------
    def role_credentials(self, query):
        account = next((a for a in CONFIG["accounts"] if a["accountId"] == query.get("account_id")), None)
        if account is None or query.get("role_name") not in account["roles"]:
            return self.portal_error(403, "ForbiddenException", "No access")
        STATE["last"]["role_credentials"] = {
            "account_id": query["account_id"], "role_name": query["role_name"],
            # Which access token was used, without keeping it: tests compare hashes.
            "token_sha256": hashlib.sha256(self.headers["x-amz-sso_bearer_token"].encode()).hexdigest()}
        if MOTO:
            import boto3
            sts = boto3.client("sts", endpoint_url=MOTO, region_name="us-east-1",
                               aws_access_key_id="fake-sso", aws_secret_access_key="fake-sso")
            issued = sts.assume_role(RoleArn=f"arn:aws:iam::{account['accountId']}:role/{query['role_name']}",
                                     RoleSessionName="fake-sso", DurationSeconds=3600)["Credentials"]
            credentials = {"accessKeyId": issued["AccessKeyId"], "secretAccessKey": issued["SecretAccessKey"],
                           "sessionToken": issued["SessionToken"],
                           "expiration": int(issued["Expiration"].timestamp() * 1000)}
        else:
            credentials = {"accessKeyId": "ASIA" + secrets.token_hex(8).upper(), "secretAccessKey": secrets.token_urlsafe(30),
                           "sessionToken": secrets.token_urlsafe(60), "expiration": int((time.time() + 3600) * 1000)}
        self.send_json(200, {"roleCredentials": credentials})

    def page(self, query, items, key):
        size = int(query.get("max_result") or 10)
        start = int(query.get("next_token") or 0)
        body = {key: items[start:start + size]}
        if start + size < len(items):
            body["nextToken"] = str(start + size)
        STATE["last"].setdefault("pages", []).append({"path": self.path.split("?")[0], "max_result": query.get("max_result"),
                                                      "next_token": query.get("next_token")})
        self.send_json(200, body)


def main():
    global MOTO
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto", help="moto_server endpoint whose STS mints the role credentials")
    arguments = parser.parse_args()
    MOTO = arguments.moto
    ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
