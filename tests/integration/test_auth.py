"""Authentication and authorization (API.md sections 2 and 10) on a pool with
auth.mode = on: the bootstrap token from dynconfctl, API tokens, JWTs (HS256
and RS256, keys made here with the openssl command), SDK keys, and an
authorization matrix generated from the route table (/v1/openapi.json walks
it): every route against every kind of credential. A route added without a
scope, or public by mistake, fails the matrix. At the end no token used here
may appear in any log of the stack.
"""

import base64
import hashlib
import hmac
import json
import os
import pwd
import re
import subprocess
import time

import harness

JSON = {"Content-Type": "application/json"}
SECRET = "integration-test-hs256-secret-0123456789abcdef"
AUDIENCE = "dynconf-it"
PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/ready"), ("GET", "/v1/openapi.json")}
SECRETS = []        # every token and key this module used, for the log check


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    def __init__(self, workdir):
        self.dir = workdir / "keys"
        self.dir.mkdir()
        self.secret_file = self.dir / "hs256.secret"
        self.secret_file.write_text(SECRET + "\n")
        self.rsa_private = self.dir / "rsa.pem"
        self.rsa_public = self.dir / "rsa.pub.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", self.rsa_private],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", self.rsa_private, "-pubout",
                        "-out", self.rsa_public], check=True, capture_output=True)
        for path in self.dir.iterdir():
            os.chmod(path, 0o644)
        os.chmod(self.dir, 0o755)

    def jwt(self, claims, alg="HS256", secret=SECRET):
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing_input = f"{header}.{payload}".encode()
        if alg == "HS256":
            sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
        elif alg == "RS256":
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.rsa_private],
                                 input=signing_input, capture_output=True, check=True).stdout
        else:
            sig = b""
        token = f"{header}.{payload}.{b64url(sig)}"
        SECRETS.append(token)
        return token


def claims(scope, **extra):
    now = int(time.time())
    doc = {"sub": "it", "aud": AUDIENCE, "iat": now, "exp": now + 600, "scope": scope}
    doc.update(extra)
    return doc


def module_fixture():
    stack = harness.Stack(processes=2)
    keys = Keys(stack.workdir)
    overrides = {"auth.mode": "on", "auth.jwt_hs256_secret_file": keys.secret_file,
                 "auth.jwt_public_keys": keys.rsa_public, "auth.jwt_audience": AUDIENCE,
                 "log.level": "debug"}
    if harness.is_root():
        # Drop to an unprivileged user after binding, as in production.
        overrides.update({"server.user": "nobody", "server.group": "nogroup"})
        stack.run_user, stack.run_group = "nobody", "nogroup"
    stack.overrides = overrides
    with stack:
        stack.keys = keys
        stack.admin = bootstrap(stack)
        yield stack


def bootstrap(stack):
    """dynconfctl token create, as contrib/dev-server does."""
    done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                           "token", "create", "--name", "admin", "--scopes", "admin"],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"dct_[0-9a-f]{64}", token), done.stdout
    assert token not in done.stderr
    SECRETS.append(token)
    # The pool learns of it through its watcher.
    harness.wait_until(lambda: call(stack, "GET", "/v1/tokens", token).status == 200,
                       timeout=5, what="the bootstrap token to work")
    return token


def call(stack, method, path, token=None, doc=None, headers=None, raw_auth=None):
    h = dict(headers or {})
    if raw_auth is not None:
        h["Authorization"] = raw_auth
    elif token is not None:
        h["Authorization"] = f"Bearer {token}"
    body = None
    if doc is not None:
        body = json.dumps(doc).encode()
        h.update(JSON)
    return stack.request(method, path, body=body, headers=h)


def make_token(stack, scopes, maker=None, ttl=None, name="it"):
    doc = {"name": name, "scopes": scopes}
    if ttl is not None:
        doc["ttl"] = ttl
    resp = call(stack, "POST", "/v1/tokens", maker or stack.admin, doc)
    assert resp.status == 201, resp
    body = resp.json()
    SECRETS.append(body["token"])
    return body


def test_bootstrap_token_and_unprivileged_pool(stack):
    resp = call(stack, "GET", "/v1/tokens", stack.admin)
    assert resp.status == 200, resp
    names = [t["name"] for t in resp.json()["items"]]
    assert "admin" in names
    assert all("token" not in t and "sha256" not in t for t in resp.json()["items"])
    if harness.is_root():
        nobody = pwd.getpwnam("nobody").pw_uid
        for pid in stack.pool.responder_pids():
            uids = {int(u) for u in harness.proc_status(pid)["Uid"].split()}
            assert uids == {nobody}, (pid, uids)


def test_token_lifecycle_and_scope_ceiling(stack):
    made = make_token(stack, ["flags:write"], ttl=3600)
    assert made["token"].startswith("dct_") and made["scopes"] == ["flags:write"]
    assert made["expires_at"]
    tok = made["token"]
    assert call(stack, "GET", "/v1/flags", tok).status == 200          # write => read
    assert call(stack, "GET", "/v1/config", tok).status == 403
    # A flags:write token may not make tokens, nor grant more than it holds.
    lister = make_token(stack, ["tokens:write", "flags:read"])["token"]
    resp = call(stack, "POST", "/v1/tokens", lister, {"name": "x", "scopes": ["admin"]})
    harness.assert_problem(resp, 403, "insufficient_scope")
    resp = call(stack, "POST", "/v1/tokens", lister, {"name": "x", "scopes": ["flags:read"]})
    assert resp.status == 201, resp
    SECRETS.append(resp.json()["token"])
    resp = call(stack, "POST", "/v1/tokens", stack.admin, {"name": "x", "scopes": ["nope"]})
    harness.assert_problem(resp, 400)
    # Revocation through the API.
    assert call(stack, "DELETE", f"/v1/tokens/{made['id']}", stack.admin).status == 204
    harness.assert_problem(call(stack, "GET", "/v1/flags", tok), 401, "unauthenticated")
    harness.assert_problem(call(stack, "DELETE", f"/v1/tokens/{made['id']}", stack.admin),
                           404)


def test_revocation_elsewhere_reaches_the_pool_within_a_second(stack):
    """Deleted in etcd by another node (etcdctl here): refused within 1 s."""
    made = make_token(stack, ["config:read"])
    assert call(stack, "GET", "/v1/config", made["token"]).status == 200
    sha = hashlib.sha256(made["token"].encode()).hexdigest()
    stack.etcdctl("del", f"/dynconf/tokens/{made['id']}")
    stack.etcdctl("del", f"/dynconf/index/tokens/{sha}")
    started = time.monotonic()
    harness.wait_until(lambda: call(stack, "GET", "/v1/config", made["token"]).status == 401,
                       timeout=1.0, interval=0.02, what="the revoked token to be refused")
    assert time.monotonic() - started < 1.0


def test_expired_token(stack):
    made = make_token(stack, ["config:read"], ttl=1)
    time.sleep(2.1)
    resp = call(stack, "GET", "/v1/config", made["token"])
    harness.assert_problem(resp, 401, "unauthenticated")
    assert 'error="invalid_token"' in resp.headers.get("www-authenticate", "")


def test_jwt(stack):
    k = stack.keys
    assert call(stack, "GET", "/v1/flags", k.jwt(claims("flags:read"))).status == 200
    assert call(stack, "GET", "/v1/flags",
                k.jwt({**claims(""), "permissions": ["flags:read"]}, alg="RS256")).status == 200
    assert call(stack, "GET", "/v1/config", k.jwt(claims("flags:read"))).status == 403
    for bad in (k.jwt(claims("admin"), secret="another secret, long enough for hs256"),
                k.jwt(claims("admin"), alg="none"),
                k.jwt(claims("admin", aud="someone-else")),
                k.jwt(claims("admin", exp=int(time.time()) - 120)),
                k.jwt(claims("admin", nbf=int(time.time()) + 600))):
        resp = call(stack, "GET", "/v1/flags", bad)
        harness.assert_problem(resp, 401, "unauthenticated")
    # Algorithm confusion: HS256 "signed" with the RSA public key.
    pem = k.rsa_public.read_text()
    resp = call(stack, "GET", "/v1/flags", k.jwt(claims("admin"), secret=pem))
    harness.assert_problem(resp, 401, "unauthenticated")


def test_sdk_keys(stack):
    a = call(stack, "POST", "/v1/environments", stack.admin, {"name": "sdk-a"}).json()
    b = call(stack, "POST", "/v1/environments", stack.admin, {"name": "sdk-b"}).json()
    SECRETS.extend([a["sdk_key"], b["sdk_key"]])
    resp = call(stack, "PUT", "/v1/flags/f1?env=sdk-a", stack.admin,
                {"enabled": True, "value": 1})
    assert resp.status in (200, 201), resp
    ok = call(stack, "GET", "/v1/flags/f1/evaluate", a["sdk_key"])
    assert ok.status == 200, ok
    assert call(stack, "POST", "/v1/evaluate", a["sdk_key"], {"context": {}}).status == 200
    # Another environment's key, or this key asking for another environment.
    harness.assert_problem(call(stack, "GET", "/v1/flags/f1/evaluate?env=sdk-a",
                                b["sdk_key"]), 403, "insufficient_scope")
    harness.assert_problem(call(stack, "GET", "/v1/flags/f1?env=sdk-a", a["sdk_key"]),
                           403, "insufficient_scope")
    # A rotated key stops working (within a second everywhere, API.md §4).
    rotated = call(stack, "POST", "/v1/environments/sdk-a/rotate-key", stack.admin).json()
    SECRETS.append(rotated["sdk_key"])
    started = time.monotonic()
    harness.wait_until(lambda: call(stack, "GET", "/v1/flags/f1/evaluate",
                                    a["sdk_key"]).status == 401,
                       timeout=1.0, what="the old SDK key to be refused")
    assert time.monotonic() - started < 1.0
    harness.assert_problem(call(stack, "GET", "/v1/flags/f1/evaluate", a["sdk_key"]), 401)
    assert call(stack, "GET", "/v1/flags/f1/evaluate", rotated["sdk_key"]).status == 200


# --------------------------------------------------------------------------
# The matrix

def test_watch_scope_follows_its_prefix(stack):
    flags_reader = make_token(stack, ["flags:read"], name="watch-flags")["token"]
    config_reader = make_token(stack, ["config:read"], name="watch-config")["token"]
    query = "since=0&timeout=0"
    ok = call(stack, "GET", f"/v1/watch?prefix=flags/default/&{query}", flags_reader)
    assert ok.status in (200, 410), ok
    harness.assert_problem(call(stack, "GET", f"/v1/watch?prefix=config/&{query}",
                                flags_reader), 403, "insufficient_scope")
    harness.assert_problem(call(stack, "GET", f"/v1/watch?prefix=flags/default/&{query}",
                                config_reader), 403, "insufficient_scope")
    harness.assert_problem(call(stack, "GET", f"/v1/watch?prefix=services/x/&{query}",
                                config_reader), 403, "insufficient_scope")
    ok = call(stack, "GET", f"/v1/watch?prefix=config/&{query}", config_reader)
    assert ok.status in (200, 410), ok
    # No prefix: the route's own config:read decides before the 400.
    harness.assert_problem(call(stack, "GET", "/v1/watch", flags_reader), 403,
                           "insufficient_scope")


def routes(stack):
    doc = stack.request("GET", "/v1/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            # The Flagsmith SDK API takes X-Environment-Key, never a bearer
            # token (API.md section 11; tests/clients, test_segments.py).
            if {"environmentKey": []} in op.get("security", []):
                continue
            yield method.upper(), path, op["x-dynconf-scope"], op.get("x-dynconf-sdk-key", False)


def concrete(path):
    """A path to call: parameters filled so that nothing real is touched."""
    path = re.sub(r"\{key\.\.\.\}", "mx/k", path)
    return re.sub(r"\{[a-z_]+\}", "mx-none", path)


def credentials(stack):
    """name -> (Authorization header value or None, kind)."""
    k = stack.keys
    expired = make_token(stack, ["admin"], ttl=1)["token"]
    revoked = make_token(stack, ["admin"])
    call(stack, "DELETE", f"/v1/tokens/{revoked['id']}", stack.admin)
    env_a = call(stack, "POST", "/v1/environments", stack.admin, {"name": "mx-a"}).json()
    env_b = call(stack, "POST", "/v1/environments", stack.admin, {"name": "mx-b"}).json()
    SECRETS.extend([env_a["sdk_key"], env_b["sdk_key"]])
    time.sleep(1.1)     # the expired token's second passes
    unknown = "dct_" + "0" * 64
    return {
        "no token": None,
        "malformed header": "Token abc",
        "unknown token": f"Bearer {unknown}",
        "expired token": f"Bearer {expired}",
        "revoked token": f"Bearer {revoked['token']}",
        "JWT bad signature": f"Bearer {k.jwt(claims('admin'), secret='wrong secret, long enough to be used')}",
        "JWT alg none": f"Bearer {k.jwt(claims('admin'), alg='none')}",
        "JWT wrong audience": f"Bearer {k.jwt(claims('admin', aud='other'))}",
    }, env_a["sdk_key"], env_b["sdk_key"]


def test_authorization_matrix(stack):
    refused, sdk_this, sdk_other = credentials(stack)
    table = list(routes(stack))
    assert {(m, p) for m, p, s, _ in table if s == "public"} == PUBLIC, \
        "public routes are exactly those of API.md section 2"
    tokens = {}     # scope -> API token holding exactly it
    failures = []

    def check(name, method, path, auth, expect):
        resp = call(stack, method, path, raw_auth=auth,
                    doc={} if method in ("POST", "PUT", "PATCH") else None)
        got = resp.status
        good = expect(got)
        if good and got == 401:
            good = resp.headers.get("www-authenticate", "").startswith("Bearer")
        if not good:
            failures.append(f"{method} {path} with {name}: {got} {resp.body[:200]!r}")

    served = lambda s: s not in (401, 403)  # noqa: E731
    for method, pattern, scope, sdk in table:
        path = concrete(pattern)
        if (method, pattern) in PUBLIC:
            for name, auth in refused.items():
                check(name, method, path, auth, served)
            continue
        assert scope != "public"
        for name, auth in refused.items():
            check(name, method, path, auth, lambda s: s == 401)
        if scope == "any":  # GET /v1/whoami: any valid credential, no scope
            check("SDK key", method, path, f"Bearer {sdk_this}", served)
            check("JWT without scopes", method, path,
                  f"Bearer {stack.keys.jwt(claims('openid'), alg='RS256')}", served)
            continue
        if scope not in tokens:
            tokens[scope] = make_token(stack, [scope])["token"]
        other = "metrics:read" if scope != "metrics:read" else "flags:read"
        if other not in tokens:
            tokens[other] = make_token(stack, [other])["token"]
        check("wrong scope", method, path, f"Bearer {tokens[other]}", lambda s: s == 403)
        check("right scope", method, path, f"Bearer {tokens[scope]}", served)
        jwt = stack.keys.jwt(claims(scope), alg="RS256")
        check("JWT RS256 right scope", method, path, f"Bearer {jwt}", served)
        sep = "&" if "?" in path else "?"
        if sdk:
            check("SDK key of this environment", method, path, f"Bearer {sdk_this}", served)
            check("SDK key of another environment", method, f"{path}{sep}env=mx-a",
                  f"Bearer {sdk_other}", lambda s: s == 403)
        else:
            check("SDK key", method, f"{path}{sep}env=mx-a", f"Bearer {sdk_this}",
                  lambda s: s == 403)
    assert not failures, "\n".join(failures)


def test_no_secret_in_any_log(stack):
    """Last: every log of the stack, grepped for every token used above."""
    assert SECRETS, "the tests above used no token"
    texts = []
    for path in stack.workdir.rglob("*"):
        if path.is_file() and (path.suffix in (".log", ".out") or path.name.endswith("log")):
            texts.append((path, path.read_text(errors="replace")))
    assert any("dynconf.log" in str(p) for p, _ in texts)
    for secret in SECRETS:
        for path, text in texts:
            assert secret not in text, f"a token appears in {path}"
            # Nor its signature or random part on its own.
            assert secret[-40:] not in text, f"part of a token appears in {path}"
