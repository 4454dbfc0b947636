"""The admin UI's server side: GET /v1/whoami (API.md section 2, dynconf's
addition) for every kind of credential, and the UI's static files and
/v1/docs as the shipped nginx and Apache sites serve them (contrib/, run
by the harness with only ports and paths rewritten): their types, the
security headers (a Content-Security-Policy without inline script, no
sniffing, no framing), nothing of it handed to the pool, the API beside
it unchanged; every file of ui/ installed by make install, and no inline
script or handler in any page. The UI itself runs in a browser in
tests/ui (tests/run runs both).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import harness
from harness import assert_problem

SECRET = "integration-test-ui-hs256-secret-0123456789abcdef"
AUDIENCE = "dynconf-ui-it"
UI = harness.REPO / "ui"
SCOPES = ["flags:read", "flags:write", "config:read", "config:write", "users:read",
          "users:write", "services:read", "services:write", "locks:write",
          "environments:write", "tokens:write", "metrics:read", "admin"]


def module_fixture():
    stack = harness.Stack(processes=2, web=("nginx", "apache"))
    secret = stack.workdir / "hs256.secret"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o644)
    stack.overrides = {"auth.mode": "on", "auth.jwt_hs256_secret_file": secret,
                       "auth.jwt_audience": AUDIENCE}
    with stack:
        done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                               "token", "create", "--name", "ui-admin", "--scopes", "admin"],
                              capture_output=True, text=True, timeout=20, check=True)
        stack.admin = done.stdout.strip()
        harness.wait_until(lambda: call(stack, "GET", "/v1/whoami", stack.admin).status == 200,
                           timeout=5, what="the bootstrap token to work")
        yield stack


def call(stack, method, path, token=None, doc=None, via="nginx"):
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if doc is not None:
        body = json.dumps(doc).encode()
        headers["Content-Type"] = "application/json"
    return stack.request(method, path, body=body, headers=headers, via=via)


def jwt(claims):
    def b64url(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = (b64url(b'{"alg":"HS256","typ":"JWT"}') + "." +
                     b64url(json.dumps(claims).encode()))
    sig = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


# -- GET /v1/whoami

def test_whoami_api_token(stack):
    resp = call(stack, "GET", "/v1/whoami", stack.admin)
    assert resp.status == 200, resp
    assert resp.headers["cache-control"] == "no-store"
    doc = resp.json()
    listed = call(stack, "GET", "/v1/tokens", stack.admin).json()["items"]
    ids = [t["id"] for t in listed if t["name"] == "ui-admin"]
    assert doc == {"actor": "ui-admin", "kind": "token", "token_id": ids[0],
                   "scopes": SCOPES}, doc
    # A token made through the API: its own scopes with the implied ones,
    # and when it expires.
    made = call(stack, "POST", "/v1/tokens", stack.admin,
                {"name": "ui-editor", "scopes": ["flags:write", "metrics:read"], "ttl": 3600})
    assert made.status == 201, made
    doc = call(stack, "GET", "/v1/whoami", made.json()["token"]).json()
    assert doc["actor"] == "ui-editor" and doc["kind"] == "token", doc
    assert doc["token_id"] == made.json()["id"]
    assert doc["scopes"] == ["flags:read", "flags:write", "metrics:read"], doc
    assert doc["expires_at"] == made.json()["expires_at"], (doc, made.json())


def test_whoami_jwt_and_sdk_key(stack):
    exp = int(time.time()) + 600
    token = jwt({"sub": "alice@example.com", "aud": AUDIENCE, "exp": exp,
                 "scope": "openid config:write"})
    doc = call(stack, "GET", "/v1/whoami", token).json()
    assert doc["actor"] == "alice@example.com" and doc["kind"] == "jwt", doc
    assert doc["scopes"] == ["config:read", "config:write"], doc
    assert doc["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    # No scope dynconf knows: still a valid credential.
    bare = jwt({"sub": "bob", "aud": AUDIENCE, "exp": exp, "scope": "openid"})
    resp = call(stack, "GET", "/v1/whoami", bare)
    assert resp.status == 200 and resp.json()["scopes"] == [], resp
    env = call(stack, "POST", "/v1/environments", stack.admin, {"name": "ui-who"})
    assert env.status == 201, env
    doc = call(stack, "GET", "/v1/whoami", env.json()["sdk_key"]).json()
    assert doc == {"actor": "sdk:ui-who", "kind": "sdk_key", "environment": "ui-who",
                   "scopes": []}, doc


def test_whoami_refuses_what_is_no_credential(stack):
    for auth in (None, "dct_" + "0" * 64, jwt({"sub": "x", "aud": "other",
                                               "exp": int(time.time()) + 60})):
        resp = call(stack, "GET", "/v1/whoami", auth)
        assert_problem(resp, 401, "unauthenticated")
        assert resp.headers["www-authenticate"].startswith("Bearer")
    resp = call(stack, "POST", "/v1/whoami", stack.admin, {})
    assert_problem(resp, 405)
    assert resp.headers["allow"] == "GET, HEAD" or "GET" in resp.headers["allow"]


def test_whoami_in_openapi(stack):
    doc = call(stack, "GET", "/v1/openapi.json").json()
    op = doc["paths"]["/v1/whoami"]["get"]
    assert op["x-dynconf-scope"] == "any", op
    assert op["security"] == [{"bearer": []}], op
    assert set(op["responses"]["200"]["content"]["application/json"]["schema"]
               ["required"]) == {"actor", "kind", "scopes"}
