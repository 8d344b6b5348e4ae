#!/usr/bin/env python3
"""Drives fake_sso.py with boto3's own sso-oidc and sso clients: if botocore can call every
operation credd uses and parse every answer and error, the fake speaks the real wire format.

usage: boto3_conformance.py FAKE_ENDPOINT [MOTO_ENDPOINT]
Prints one JSON object of findings; exits non-zero on the first mismatch.
"""
import base64
import hashlib
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore import UNSIGNED
from botocore.config import Config

endpoint = sys.argv[1]
moto = sys.argv[2] if len(sys.argv) > 2 else None
findings = {}


def control(path, body):
    request = urllib.request.Request(endpoint + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def expect_error(client, name, call):
    try:
        call()
    except getattr(client.exceptions, name):
        return True
    raise AssertionError(f"expected {name}")


# As botocore's SSOTokenProvider builds its client: unsigned, region from the sso-session.
config = Config(signature_version=UNSIGNED, region_name="us-east-1")
oidc = boto3.client("sso-oidc", endpoint_url=endpoint, config=config)
sso = boto3.client("sso", endpoint_url=endpoint, config=config)
control("/_fake/config", {"pending_polls": 1, "slow_down_polls": 1, "accounts": [
    {"accountId": "111111111111", "accountName": "dev", "emailAddress": "a@example.com", "roles": ["Developer", "ReadOnly", "Admin"]},
    {"accountId": "222222222222", "accountName": "prod", "emailAddress": "b@example.com", "roles": ["ReadOnly"]},
    {"accountId": "333333333333", "accountName": "logs", "emailAddress": "c@example.com", "roles": ["ReadOnly"]},
]})

# Device authorization flow.
device_client = oidc.register_client(clientName="boto3-check", clientType="public", scopes=["sso:account:access"])
assert device_client["clientSecretExpiresAt"] > device_client["clientIdIssuedAt"]
authorization = oidc.start_device_authorization(clientId=device_client["clientId"], clientSecret=device_client["clientSecret"],
                                                startUrl="https://fake.awsapps.com/start")
assert authorization["interval"] >= 1 and authorization["verificationUriComplete"].startswith(authorization["verificationUri"])
device_grant = dict(grantType="urn:ietf:params:oauth:grant-type:device_code", clientId=device_client["clientId"],
                    clientSecret=device_client["clientSecret"], deviceCode=authorization["deviceCode"])
findings["pending"] = expect_error(oidc, "AuthorizationPendingException", lambda: oidc.create_token(**device_grant))
findings["slow_down"] = expect_error(oidc, "SlowDownException", lambda: oidc.create_token(**device_grant))
device_token = oidc.create_token(**device_grant)
assert device_token["expiresIn"] > 0 and device_token["refreshToken"]
control("/_fake/config", {"pending_polls": 0, "slow_down_polls": 0, "expire_device_codes": True})
expired = oidc.start_device_authorization(clientId=device_client["clientId"], clientSecret=device_client["clientSecret"],
                                          startUrl="https://fake.awsapps.com/start")
findings["expired"] = expect_error(oidc, "ExpiredTokenException", lambda: oidc.create_token(**dict(device_grant, deviceCode=expired["deviceCode"])))
control("/_fake/config", {"expire_device_codes": False})

# Authorization code with PKCE: the redirect is read, not followed.
pkce_client = oidc.register_client(clientName="boto3-check", clientType="public", scopes=["sso:account:access"],
                                   grantTypes=["authorization_code", "refresh_token"],
                                   redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl="https://fake.awsapps.com/start")
verifier = secrets.token_urlsafe(48)[:64]
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
redirect_uri = "http://127.0.0.1:9/oauth/callback"
query = urllib.parse.urlencode({"response_type": "code", "client_id": pkce_client["clientId"], "redirect_uri": redirect_uri,
                                "state": "s1", "code_challenge_method": "S256", "scopes": "sso:account:access",
                                "code_challenge": challenge})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


try:
    urllib.request.build_opener(NoRedirect).open(endpoint + "/authorize?" + query)
    raise AssertionError("authorize did not redirect")
except urllib.error.HTTPError as redirect:
    location = urllib.parse.urlsplit(redirect.headers["Location"])
returned = dict(urllib.parse.parse_qsl(location.query))
assert returned["state"] == "s1" and location.port == 9
code_grant = dict(grantType="authorization_code", clientId=pkce_client["clientId"], clientSecret=pkce_client["clientSecret"],
                  code=returned["code"], codeVerifier=verifier, redirectUri=redirect_uri)
pkce_token = oidc.create_token(**code_grant)
findings["pkce_replay_refused"] = expect_error(oidc, "InvalidGrantException", lambda: oidc.create_token(**code_grant))

# Refresh, with rotation of the refresh token.
refreshed = oidc.create_token(grantType="refresh_token", clientId=pkce_client["clientId"], clientSecret=pkce_client["clientSecret"],
                              refreshToken=pkce_token["refreshToken"])
assert refreshed["accessToken"] != pkce_token["accessToken"]
findings["rotated"] = refreshed.get("refreshToken") not in (None, pkce_token["refreshToken"])

# Portal.
access = refreshed["accessToken"]
role = sso.get_role_credentials(roleName="Developer", accountId="111111111111", accessToken=access)["roleCredentials"]
assert role["expiration"] > 10**12, "expiration is in epoch milliseconds"
findings["expiration_ms"] = role["expiration"]
if moto:
    identity = boto3.client("sts", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=role["accessKeyId"],
                            aws_secret_access_key=role["secretAccessKey"], aws_session_token=role["sessionToken"]).get_caller_identity()
    findings["caller"] = identity["Arn"]
accounts = [a for page in sso.get_paginator("list_accounts").paginate(accessToken=access, PaginationConfig={"PageSize": 2})
            for a in page["accountList"]]
findings["accounts"] = [a["accountId"] for a in accounts]
roles = [r for page in sso.get_paginator("list_account_roles").paginate(accessToken=access, accountId="111111111111",
                                                                        PaginationConfig={"PageSize": 1})
         for r in page["roleList"]]
findings["roles"] = [r["roleName"] for r in roles]
findings["unauthorized"] = expect_error(sso, "UnauthorizedException",
                                        lambda: sso.get_role_credentials(roleName="Developer", accountId="111111111111", accessToken="nope"))
findings["too_many"] = expect_error(sso, "InvalidRequestException", lambda: sso.list_accounts(accessToken=access, maxResults=101))

# The session ends: the refresh token is refused as sso-oidc refuses it.
control("/_fake/end-session", {})
findings["invalid_grant"] = expect_error(oidc, "InvalidGrantException", lambda: oidc.create_token(
    grantType="refresh_token", clientId=pkce_client["clientId"], clientSecret=pkce_client["clientSecret"],
    refreshToken=refreshed["refreshToken"]))
print(json.dumps(findings))
