"""The admin UI's server side: GET /v1/whoami (API.md section 2, dynconf's
addition) for every kind of credential, and the UI's static files and
/v1/docs as the shipped nginx and Apache sites serve them (contrib/, run
by the harness with only ports and paths rewritten): their types, the
security headers (a Content-Security-Policy without inline script, no
sniffing, no framing), nothing of it handed to the pool, the API beside
it unchanged, the development stack alike; every file of ui/ installed by
make install, no inline script or handler in any page, and no code that
parses data as markup. The UI itself runs in a browser in tests/ui
(tests/run runs both).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
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
          "environments:write", "tokens:write", "metrics:read", "audit:read", "admin"]


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


# -- the UI's files and /v1/docs, as the shipped sites serve them

TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript",
         ".svg": "image/svg+xml", ".txt": "text/plain", "": "text/plain"}


def ui_files():
    return sorted(p.relative_to(UI).as_posix() for p in UI.rglob("*") if p.is_file())


def csp(resp):
    """The Content-Security-Policy's directives: {name: [values]}."""
    header = resp.headers.get("content-security-policy", "")
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_locked_down(resp, what):
    policy = csp(resp)
    assert policy.get("default-src") == ["'none'"], (what, policy)
    assert policy.get("script-src") == ["'self'"], (what, policy)
    assert policy.get("frame-ancestors") == ["'none'"], (what, policy)
    assert policy.get("base-uri") == ["'none'"], (what, policy)
    for values in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(values), (what, policy)
    assert resp.headers.get("x-content-type-options") == "nosniff", what
    assert resp.headers.get("x-frame-options") == "DENY", what


def test_ui_served_by_both_web_servers(stack):
    files = ui_files()
    assert "index.html" in files and "vendor/swagger-ui/swagger-ui-bundle.js" in files
    for via in ("nginx", "apache"):
        for rel in files:
            resp = stack.request("GET", f"/ui/{rel}", via=via)
            what = f"{via} /ui/{rel}"
            assert resp.status == 200, (what, resp)
            assert resp.body == (UI / rel).read_bytes(), what
            ctype = resp.headers["content-type"].split(";")[0].strip()
            suffix = Path(rel).suffix if Path(rel).suffix != ".txt" else ".txt"
            assert ctype == TYPES[suffix], (what, ctype)
            assert_locked_down(resp, what)
        index = stack.request("GET", "/ui/", via=via)
        assert index.status == 200 and index.body == (UI / "index.html").read_bytes(), via
        assert index.headers["content-type"].startswith("text/html"), index
        assert_locked_down(index, f"{via} /ui/")
        moved = stack.request("GET", "/ui", via=via)
        assert moved.status == 301 and moved.headers["location"].endswith("/ui/"), (via, moved)
        docs = stack.request("GET", "/v1/docs", via=via)
        assert docs.status == 200 and docs.body == (UI / "docs.html").read_bytes(), (via, docs)
        assert docs.headers["content-type"].startswith("text/html"), (via, docs)
        assert_locked_down(docs, f"{via} /v1/docs")
        assert stack.request("GET", "/ui/no-such-file.js", via=via).status == 404
        # The API beside it is the pool's, as before.
        health = stack.request("GET", "/v1/health", via=via)
        assert health.status == 200 and health.headers["content-type"] == "application/json"
        openapi = stack.request("GET", "/v1/openapi.json", via=via)
        assert openapi.status == 200 and "/v1/docs" not in openapi.json()["paths"]
    # None of it reached the pool.
    log = (stack.state_dir / "dynconf.log").read_text()
    assert "path=/v1/health" in log
    assert "path=/ui" not in log and "path=/v1/docs" not in log


class Page(HTMLParser):
    """What an HTML page loads and what it holds inline."""

    def __init__(self):
        super().__init__()
        self.refs, self.inline = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}>")
        if tag == "script":
            if "src" not in attrs:
                self.inline.append("<script> without src")
            else:
                self.refs.append(attrs["src"])
        if tag == "style":
            self.inline.append("<style>")
        if tag == "link":
            self.refs.append(attrs["href"])


def test_pages_load_only_their_own_files():
    """No inline script, style or handler (the CSP would block them), and
    every file a page names is one of ui/'s."""
    for name in ("index.html", "docs.html"):
        page = Page()
        page.feed((UI / name).read_text())
        assert not page.inline, (name, page.inline)
        for ref in page.refs:
            path = ref.removeprefix("/ui/") if ref.startswith("/ui/") else ref
            assert not re.match(r"^[a-z]+:|^//", path), (name, ref)
            assert (UI / path).is_file(), (name, ref)


def test_ui_code_never_parses_data_as_markup():
    """The UI builds the page with text nodes only (dom.js): nothing that
    parses a string as HTML or runs one as code."""
    banned = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|"
                        r"\beval\(|new Function|setTimeout\(\s*['\"`]|createContextualFragment|"
                        r"DOMParser")
    for path in (UI / "js").rglob("*.js"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("//"):
                continue
            assert not banned.search(line.replace("'innerHTML'", "").replace("'outerHTML'", "")), \
                f"{path.relative_to(UI)}:{n}: {line.strip()}"


def test_make_install_ships_every_ui_file():
    if not (harness.REPO / "Makefile").exists():
        raise harness.SkipTest("the tree is not configured (no Makefile)")
    with tempfile.TemporaryDirectory() as dest:
        done = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"], cwd=harness.REPO,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        found = [p for p in Path(dest).rglob("ui") if p.is_dir() and p.parent.name == "dynconf"]
        assert len(found) == 1, found
        installed = sorted(p.relative_to(found[0]).as_posix()
                           for p in found[0].rglob("*") if p.is_file())
    assert installed == ui_files(), \
        f"not installed: {set(ui_files()) - set(installed)}; extra: {set(installed) - set(ui_files())}"


def test_dev_stack_serves_the_ui():
    """contrib/dev-server's stack (harness.py --dev): the UI at /ui/ and
    /v1/docs, as the README says, and it names the address on start."""
    dev = Path(tempfile.mkdtemp(prefix="dynconf-dev-ui."))
    port = harness.free_port()
    proc = subprocess.Popen([sys.executable, str(harness.REPO / "tests/integration/harness.py"),
                             "--dev", "--port", str(port), "--processes", "1"],
                            env=dict(os.environ, DYNCONF_DEV_DIR=str(dev)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        harness.wait_until(lambda: (dev / "stack.env").exists() and proc.poll() is None,
                           timeout=60, what="the dev stack")
        token = (dev / "admin.token").read_text().strip()
        for path in ("/ui/", "/ui/js/app.js", "/v1/docs"):
            resp = harness.http_request(port, "GET", path)
            assert resp.status == 200, (path, resp)
            assert_locked_down(resp, f"dev {path}")
        who = harness.http_request(port, "GET", "/v1/whoami",
                                   headers={"Authorization": f"Bearer {token}"})
        assert who.status == 200 and who.json()["scopes"][-1] == "admin", who
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out = proc.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        shutil.rmtree(dev, ignore_errors=True)
    assert f"the admin UI: http://127.0.0.1:{port}/ui/" in out, out[-2000:]
