"""A review of the audit trail, GET /v1/audit and GET /v1/whoami (API.md
sections 2 and 14) from an attacker's side, on a pool with auth.mode = on.

Each test holds a defect found in that review (it failed before its fix)
or guards what a plausible bug would break: the actor of a lock taken
after waiting (the waiting process acts for the request); whoami naming a
credential as the audit trail does; answers that stay valid UTF-8 whatever
was written into etcd by hand; records written by hand under audit/ that
are not what dynconf writes; the list's query parameters at and past
their bounds (400, never 5xx); and refused writes that record nothing.
"""

import base64
import hashlib
import hmac
import json
import re
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import harness
from harness import wait_until

SECRET = "review3-test-hs256-secret-0123456789abcdef0123"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"exp": int(time.time()) + 600, **claims}).encode())
    sig = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


class Review:
    """A stack with an admin token, an auditor and a token of few scopes."""

    def __init__(self, stack):
        self.stack = stack
        done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                               "token", "create", "--name", "r3-root", "--scopes", "admin"],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        self.admin = done.stdout.strip()
        wait_until(lambda: self.call("GET", "/v1/whoami", self.admin).status == 200,
                   timeout=5, what="the bootstrap token to work")
        self.locker, self.locker_id = self.token("r3-locker", ["locks:write"])
        self.auditor, _ = self.token("r3-auditor", ["audit:read"])

    def token(self, name, scopes):
        made = self.call("POST", "/v1/tokens", self.admin, {"name": name, "scopes": scopes})
        assert made.status == 201, made
        return made.json()["token"], made.json()["id"]

    def call(self, method, path, token=None, doc=None, headers=None, stack=None):
        return (stack or self.stack).call(method, path, token=token, doc=doc,
                                          headers=headers)

    def written(self, method, path, token=None, doc=None, headers=None):
        resp = self.call(method, path, token or self.admin, doc, headers)
        assert resp.status in (200, 201, 204), resp
        return resp

    def audit(self, query="", stack=None):
        """GET /v1/audit?query: the response (any status)."""
        return self.call("GET", "/v1/audit" + (f"?{query}" if query else ""),
                         self.auditor, stack=stack)

    def rows(self, stack=None, **params):
        resp = self.audit(urllib.parse.urlencode({"limit": 1000, **params}), stack)
        assert resp.status == 200, resp
        return resp.json()["items"]

    def row_of(self, resource, key, request_id, timeout=5):
        def find():
            for row in self.rows(resource=resource, key=key):
                if row["request_id"] == request_id:
                    return row
            return None
        return wait_until(find, timeout=timeout,
                          what=f"the audit row of {resource}/{key} by {request_id}")

    def etcd_txn(self, puts=(), deletes=()):
        """One etcd transaction of raw puts and deletes (bytes allowed), as
        etcdctl would make it, through etcd's JSON gateway."""
        def b64(x):
            return base64.b64encode(x if isinstance(x, bytes) else x.encode()).decode()
        success = [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in puts]
        success += [{"request_delete_range": {"key": b64(k)}} for k in deletes]
        req = urllib.request.Request(self.stack.etcd.url + "/v3/kv/txn",
                                     data=json.dumps({"success": success}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            done = json.loads(resp.read())
        assert done.get("succeeded"), done
        return int(done["header"]["revision"])


def module_fixture():
    stack = harness.Stack(processes=2)
    secret = stack.workdir / "hs256.secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o644)
    stack.overrides = {"auth.mode": "on", "auth.jwt_hs256_secret_file": secret}
    with stack:
        yield Review(stack)


# -- what the waiting process does for a request

def test_a_lock_taken_after_waiting_names_who_asked(r):
    """The waiting process takes the lock for the request when its holder
    lets go: the record names the request's token, not "anonymous" (the
    wait room lost who asked, and read it from uninitialized memory)."""
    held = r.written("POST", "/v1/locks/r3-waited", doc={"holder": "first", "ttl": 30}).json()
    out = {}

    def waiter():
        out["resp"] = r.call("POST", "/v1/locks/r3-waited", r.locker,
                             {"holder": "second", "wait": 15},
                             headers={"X-Request-Id": "r3-waited-acquire"})
    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        time.sleep(1.0)     # it waits in the waiting process by now
        r.written("DELETE", "/v1/locks/r3-waited", doc={"token": held["token"]})
    finally:
        thread.join(20)
    got = out["resp"]
    assert got.status == 201 and got.headers["x-request-id"] == "r3-waited-acquire", got
    row = r.row_of("locks", "r3-waited", "r3-waited-acquire")
    assert row["action"] == "acquire", row
    assert row["actor"] == "r3-locker" and row["actor_kind"] == "token", row
    assert row["token_id"] == r.locker_id, row
    assert row["new_revision"] == got.json()["fencing_token"], (row, got.json())
    r.written("DELETE", "/v1/locks/r3-waited", r.locker, {"token": got.json()["token"]})


# -- GET /v1/whoami names a credential as the audit trail does

def whoami_and_row(r, token, key):
    """whoami's answer for token, and the audit row of a write it makes."""
    who = r.call("GET", "/v1/whoami", token)
    assert who.status == 200, who
    made = r.written("PUT", f"/v1/config/r3-who/{key}", token, {"value": key})
    return who.json(), r.row_of("config", f"r3-who/{key}", made.headers["x-request-id"])


def test_whoami_names_a_jwt_without_a_usable_sub_as_the_audit_trail_does(r):
    """A JWT without a sub, or with one too long to pass on, writes as
    actor "jwt" (API.md section 14); whoami answered "" for it."""
    for key, claims in (("nosub", {}), ("longsub", {"sub": "s" * 300}),
                        ("numsub", {"sub": 42}), ("sub", {"sub": "carol@example.com"})):
        who, row = whoami_and_row(r, jwt({"scope": "config:write", **claims}), key)
        assert who["kind"] == "jwt" and row["actor_kind"] == "jwt", (who, row)
        assert who["actor"] == row["actor"], (key, who, row)
        assert who["actor"] == (claims["sub"] if key == "sub" else "jwt"), who


def test_whoami_names_a_token_as_the_audit_trail_does(r):
    """A token whose stored name is no name (written by hand) writes under
    its id (API.md section 14); whoami answered the stored text."""
    token, tid = r.token("r3-renamed", ["config:write"])
    key = f"/dynconf/tokens/{tid}"
    doc = json.loads(r.stack.etcdctl("get", "--print-value-only", key))
    for key_name, name in (("badname", "not a name!"), ("emptyname", "")):
        doc["name"] = name
        r.stack.etcdctl("put", key, json.dumps(doc))
        wait_until(lambda: [t for t in r.call("GET", "/v1/tokens?limit=1000", r.admin)
                            .json()["items"] if t["id"] == tid][0]["name"] == name,
                   timeout=5, what="the hand-written name")
        who, row = whoami_and_row(r, token, key_name)
        assert who["kind"] == "token" and row["actor_kind"] == "token", (who, row)
        assert who["actor"] == row["actor"] == tid, (who, row)
        assert who["token_id"] == row["token_id"] == tid, (who, row)


# -- every answer is valid UTF-8 JSON (API.md section 1), whatever etcd holds

def utf8_json(resp):
    """The answer's JSON, which must be valid UTF-8 (no bytes let through)."""
    assert resp.status == 200, resp
    return json.loads(resp.body.decode("utf-8"))


def test_a_key_written_by_hand_that_is_not_utf8_lists_mended(r):
    """A key written with etcdctl that is not UTF-8 listed its raw bytes:
    the audit list and the config list answered invalid UTF-8 (json-c
    writes a string's bytes as they are). Each bad byte is U+FFFD."""
    r.etcd_txn(puts=[(b"/dynconf/config/r3-bad/\xff\xc0key", b"1")])
    rows = wait_until(lambda: utf8_json(r.audit("resource=config&key=r3-bad/"))["items"],
                      timeout=5, what="the row of the hand-written key")
    assert [x["key"] for x in rows] == ["r3-bad/\ufffd\ufffdkey"], rows
    assert rows[0]["actor"] == "etcd" and rows[0]["action"] == "create", rows
    listed = utf8_json(r.call("GET", "/v1/config?prefix=r3-bad/", r.admin))["items"]
    assert [x["key"] for x in listed] == ["r3-bad/\ufffd\ufffdkey"], listed
    # DELETE still takes the key as it is in etcd.
    assert r.call("DELETE", "/v1/config/r3-bad/%ff%c0key", r.admin).status == 204


def test_a_record_written_by_hand_that_is_not_utf8_lists_mended(r):
    """A record written by hand (with a change, in one transaction) whose
    strings are not UTF-8: its row lists them with U+FFFD, valid JSON."""
    record = (b'{"actor":"ev\xffil","actor_kind":"to\xffken","token_id":"t\xff",'
              b'"request_id":"r\xff","time":"2026-01-01T00:00:00.000000Z",'
              b'"ops":[{"key":"config/r3-handrec","action":"tou\xffch"}]}')
    rev = r.etcd_txn(puts=[(b"/dynconf/config/r3-handrec", b"1"),
                           (b"/dynconf/audit/2026-01-01T00:00:00.000000Z-r3hand", record)])
    rows = wait_until(lambda: utf8_json(r.audit("resource=config&key=r3-handrec"))["items"],
                      timeout=5, what="the hand-written record's row")
    assert rows[0]["new_revision"] == rev, rows
    assert rows[0]["actor"] == "ev\ufffdil" and rows[0]["actor_kind"] == "to\ufffdken", rows
    assert rows[0]["action"] == "tou\ufffdch" and rows[0]["token_id"] == "t\ufffd", rows
    assert rows[0]["request_id"] == "r\ufffd", rows
    # The actor filter matches what is stored, not what is shown.
    assert utf8_json(r.audit("actor=ev%ffil"))["total"] == 1


def test_a_user_written_by_hand_that_is_not_utf8_lists_mended(r):
    """Same class elsewhere: a user key written by hand that is not UTF-8
    made GET /v1/users and the seed's GET /usuarios answer invalid UTF-8
    (their pages are written through json-c, not respond_json)."""
    r.etcd_txn(puts=[(b"/dynconf/users/r3bad\xff",
                      b'{"id":"r3bad\xff","name":"R3 \xff","email":"r3bad@example.com"}')])

    def listed():
        users = utf8_json(r.call("GET", "/v1/users?limit=1000", r.admin))["items"]
        return [u for u in users if u["id"].startswith("r3bad")]
    users = wait_until(listed, timeout=5, what="the hand-written user")
    assert users[0]["id"] == "r3bad\ufffd" and users[0]["name"] == "R3 \ufffd", users
    seed = r.call("GET", "/usuarios", r.admin)
    assert seed.status == 200, seed
    assert any(u["_id"] == "r3bad\ufffd" for u in json.loads(seed.body.decode("utf-8")))


# -- records written by hand under audit/, and what a cold node lists

def test_a_record_by_hand_under_a_key_without_its_time_is_none(r):
    """A record put with etcdctl under a key that does not name its time
    (no time, another time) was believed, but its rows stayed after it
    went (they are found by the time its key names), on the node that saw
    it only: a node started later listed none of them. Such a record is
    no record now: its change lists as etcd's, on that node only."""
    def record(when, key):
        return json.dumps({"actor": "r3-forger", "actor_kind": "token", "time": when,
                           "ops": [{"key": f"config/{key}", "action": "update"}]})
    hand = {"r3-forged/a": "/dynconf/audit/by-hand",
            "r3-forged/b": "/dynconf/audit/2026-02-02T00:00:00.000000Z-r3other",
            "r3-forged/c": "/dynconf/audit/2026-01-01T00:00:00.000000Z"}
    for key, record_key in hand.items():
        r.etcd_txn(puts=[(f"/dynconf/config/{key}", "1"),
                         (record_key, record("2026-01-01T00:00:00.000000Z", key))])
    # A record as dynconf writes it, by hand too: believed, and it goes.
    good = "/dynconf/audit/2026-01-01T00:00:00.000000Z-r3good"
    r.etcd_txn(puts=[("/dynconf/config/r3-forged/d", "1"),
                     (good, record("2026-01-01T00:00:00.000000Z", "r3-forged/d"))])
    rows = wait_until(lambda: (lambda x: x if len(x) == 4 else None)(
        r.rows(resource="config", key="r3-forged/")), timeout=5, what="the four rows")
    assert {x["key"]: x["actor"] for x in rows} == {
        "r3-forged/a": "etcd", "r3-forged/b": "etcd", "r3-forged/c": "etcd",
        "r3-forged/d": "r3-forger"}, rows
    r.stack.etcdctl("del", "--prefix", "/dynconf/audit/by-hand")
    for record_key in list(hand.values())[1:] + [good]:
        r.stack.etcdctl("del", record_key)
    # The good record's row went with it; the rest were never a record's.
    wait_until(lambda: len(r.rows(resource="config", key="r3-forged/")) == 3, timeout=5,
               what="the good record's row to go")
    assert all(x["actor"] == "etcd" for x in r.rows(resource="config", key="r3-forged/"))
    # A node that starts now lists none of them (changes by hand before it).
    cold = harness.Stack(processes=1, etcd=False,
                         overrides={**r.stack.overrides, "etcd.endpoints": r.stack.etcd.url})
    with cold:
        wait_until(lambda: cold.request("GET", "/v1/ready").status == 200,
                   what="the cold node's replica")
        assert r.rows(stack=cold, resource="config", key="r3-forged/") == []
        assert r.rows(stack=cold, actor="r3-forger") == []


# -- GET /v1/audit's query: at and past every bound, 400 and never 5xx

BAD_QUERIES = [
    # (query, code)
    ("limit=9223372036854775808", "invalid_query"), ("limit=1e308", "invalid_query"),
    ("limit=%2B5", "invalid_query"), ("limit=%205", "invalid_query"),
    ("limit=5%20", "invalid_query"), ("limit=0x10", "invalid_query"),
    ("limit", "invalid_query"), ("offset=4611686018427387904", "invalid_query"),
    ("offset=9223372036854775807", "invalid_query"), ("offset=1e308", "invalid_query"),
    ("offset=-9223372036854775808", "invalid_query"),
    ("since=9223372036854775808", "invalid_query"), ("since=1e308", "invalid_query"),
    ("since=-1", "invalid_query"), ("since=%ff", "invalid_query"),
    ("since=2026-11-22T10:00:00.Z", "invalid_query"), ("since=2026-11-22T10:00:00", "invalid_query"),
    ("since=2026-11-22T10:00:00%2B24:00", "invalid_query"), ("since=" + "1" * 65, "invalid_query"),
    ("since", "invalid_query"), ("since=0x10", "invalid_query"),
    ("resource=%ff", "invalid_key"), ("resource=" + "r" * 129, "invalid_key"),
    ("resource", "invalid_key"), ("resource=..", "invalid_key"),
    ("resource=config%00", "invalid_encoding"), ("key=" + "k" * 4097, "invalid_query"),
    ("actor=" + "a" * 301, "invalid_query"), ("key", "invalid_query"), ("actor", "invalid_query"),
    ("since=1&since=1", "repeated_parameter"), ("key=a&key=a", "repeated_parameter"),
    ("%ff=1&%ff=2", "repeated_parameter"), ("offset=1&limit=2&offset=1", "repeated_parameter"),
    ("actor=%", "invalid_encoding"), ("actor=%0", "invalid_encoding"),
    ("limit=5&resource=a/b&since=x", "invalid_query"),
]


def problem_of(resp, status, code):
    assert resp.status == status, resp
    assert resp.headers["content-type"] == "application/problem+json", resp
    doc = json.loads(resp.body.decode("utf-8"))
    assert doc["code"] == code and doc["status"] == status, doc
    assert doc["request_id"] == resp.headers["x-request-id"], (doc, resp.headers)
    return doc


def test_bad_audit_queries_are_400_with_a_stable_code(r):
    before = r.rows()
    for query, code in BAD_QUERIES:
        problem_of(r.audit(query), 400, code)
    # Every bad parameter named at once.
    doc = problem_of(r.audit("limit=0&offset=-1&since=x&resource=a/b"), 400, "invalid_query")
    assert {e["field"] for e in doc["errors"]} == {"limit", "offset", "since", "resource"}, doc
    # 100 KB in one value, past the web server (which answers 414 itself).
    resp = r.audit("actor=" + "a" * 100_000)
    assert resp.status in (400, 414) and resp.headers["content-type"] == \
        "application/problem+json", resp
    direct = r.stack.fcgi("GET", "/v1/audit", query="actor=" + "a" * 100_000,
                          headers={"Authorization": f"Bearer {r.auditor}"})
    assert direct.status == 400 and json.loads(direct.body)["code"] == "invalid_query", \
        direct.raw[:300]
    assert r.rows() == before


def test_audit_queries_at_their_bounds(r):
    first = r.written("PUT", "/v1/config/r3-bounds/a", doc={"value": 1}).json()["revision"]
    second = r.written("PUT", "/v1/config/r3-bounds/b", doc={"value": 2}).json()["revision"]
    wait_until(lambda: len(r.rows(resource="config", key="r3-bounds/")) == 2, timeout=5,
               what="the two rows")

    def listed(query):
        resp = r.audit(query)
        assert resp.status == 200, (query, resp)
        return json.loads(resp.body.decode("utf-8"))
    everything = listed("limit=1000")
    assert listed("since=9223372036854775807")["total"] == 0
    page = listed("offset=4611686018427387903&limit=1000")
    assert page["items"] == [] and page["total"] == everything["total"], page
    assert page["offset"] == 4611686018427387903
    assert listed("since=0&limit=1000") == everything
    assert listed("since=" + "0" * 63 + "0&limit=1000") == everything
    assert [x["new_revision"] for x in listed(
        f"resource=config&key=r3-bounds/&since={first}")["items"]] == [second]
    assert [x["new_revision"] for x in listed(
        f"resource=config&key=r3-bounds/&since={'0' * 20}{first - 1}")["items"]] \
        == [second, first]
    # Times: lower case, an offset, digits past the microsecond, far ahead.
    rows = listed("resource=config&key=r3-bounds/")["items"]
    at = rows[-1]["time"]
    assert listed(f"resource=config&key=r3-bounds/&since={at.lower()}")["total"] == 2
    assert listed("resource=config&key=r3-bounds/&since="
                  + at.replace("Z", ".000000000000Z"))["total"] == 2
    assert listed("resource=config&key=r3-bounds/&since=9999-12-31T23:59:59-23:59")["total"] == 0
    assert listed("resource=config&key=r3-bounds/&since=1970-01-01T00:00:00Z")["total"] == 2
    # limit 1 and 1000, offset past the end; parameters not declared are ignored.
    assert len(listed("limit=1")["items"]) == 1
    assert listed(f"offset={everything['total']}")["items"] == []
    assert listed("limit=1000&foo=bar&=x&&&ordering=-time") == everything


def test_audit_filters_read_rows_only(r):
    """The filters are bound parameters of prepared statements: SQL, LIKE
    wildcards or dynconf's own folders in them match nothing more."""
    r.written("PUT", "/v1/config/r3-filter/x", doc={"value": 1})
    wait_until(lambda: r.rows(resource="config", key="r3-filter/"), timeout=5,
               what="the row")

    def total(query):
        resp = r.audit(query)
        assert resp.status == 200, (query, resp)
        return resp.json()["total"]
    for query in ("actor=%27%20OR%201%3D1%20--", "actor=r3-root%27--", "key=%25",
                  "key=%25/", "resource=config&key=r3-filter%25", "key=r3-filter/_",
                  "resource=index", "resource=audit", "key=..%2F..%2F", "actor=*",
                  "resource=config&key=r3-filter/x%00"[:-3], "key=r3-filter%2F%2A"):
        expected = 1 if query == "resource=config&key=r3-filter/x" else 0
        assert total(query) == expected, query
    # The unfiltered total (a kept count) is what every filter's counts add up to.
    everything = r.rows()
    assert r.audit("limit=1").json()["total"] == len(everything)
    resources = {x["resource"] for x in everything}
    assert sum(total(f"resource={res}") for res in resources) == len(everything)


# -- GET /v1/whoami with what is no credential

def refused(resp):
    """401 unauthenticated as a problem document, with WWW-Authenticate."""
    problem_of(resp, 401, "unauthenticated")
    assert resp.headers["www-authenticate"].startswith("Bearer"), resp.headers


def test_whoami_refuses_malformed_authorization(r):
    good = r.locker
    for header in ("", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", f"Bearer {good} x",
                   f"Bearer {good},x", f"Bearer {good[:-1]}", f"Bearer {good}0",
                   "Bearer dct_", "Bearer dcsdk_", "Bearer a.b.c", "Bearer ...",
                   "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", f"Token {good}",
                   "Bearer \u00e9t\u00e9"):
        headers = {"Authorization": header.encode("utf-8").decode("latin-1")}
        refused(r.stack.request("GET", "/v1/whoami", headers=headers))
    # Past what the web server lets through: straight to the pool.
    for header in ("Bearer " + "A" * 10240, "Bearer dct_" + "0" * 10240,
                   "Bearer dcsdk_" + "0" * 10240, "Bearer " + ".".join(["a" * 4000] * 3),
                   "Bearer " + good + "=" * 9000):
        resp = r.stack.fcgi("GET", "/v1/whoami", headers={"Authorization": header})
        assert resp.status == 401 and json.loads(resp.body)["code"] == "unauthenticated", \
            resp.raw[:300]
    # Two Authorization headers, or a NUL in one: the web server's 400,
    # never the answer for either token.
    for head in (f"Authorization: Bearer {good}\r\nAuthorization: Bearer nope\r\n",
                 f"Authorization: Bearer nope\r\nAuthorization: Bearer {good}\r\n",
                 f"Authorization: Bearer {good}\x00x\r\n"):
        status, body = raw_request(r.stack, "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" + head
                                   + "Connection: close\r\n\r\n")
        assert status in (400, 401) and b"r3-locker" not in body, (status, body[:300])


def raw_request(stack, text):
    """One request written as it is: its status and body."""
    with socket.create_connection(("127.0.0.1", stack.port("nginx")), timeout=10) as sock:
        sock.sendall(text.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# -- refused writes record nothing, on every route

def etcd_records(stack):
    out = json.loads(stack.etcdctl("get", "--prefix", "--keys-only", "/dynconf/audit/",
                                   "-w", "json"))
    return {base64.b64decode(kv["key"]) for kv in out.get("kvs", [])}


def test_refused_writes_on_every_route_record_nothing(r):
    """test_audit checks the rows of one key and the records of the last
    few refusals only: here every refusal, in etcd and in the list.
    DELETE /v1/environments/default answered 409 after making "default"
    (absent: it is made when first read), a write with its record."""
    env = r.written("POST", "/v1/environments", doc={"name": "r3-refused"}).json()
    r.written("PUT", "/v1/flags/f?env=r3-refused", doc={"value": 1})
    seg = r.written("PUT", "/v1/segments/r3-refused", doc={"criteria": {"a": 1}}).json()
    user = r.written("POST", "/v1/users", doc={"name": "R", "email": "r3-ref@example.com"}).json()
    r.written("POST", "/v1/users", doc={"name": "S", "email": "r3-ref2@example.com"})
    lock = r.written("POST", "/v1/locks/r3-refused", doc={"holder": "h"}).json()
    r.written("PUT", "/v1/config/r3-refused", doc={"value": 1})
    small, _ = r.token("r3-small", ["config:write", "tokens:write"])
    merge = {"Content-Type": "application/merge-patch+json"}
    refusals = [
        ("DELETE", "/v1/config/r3-never", None, None, None, 404),
        ("PUT", "/v1/config/r3-refused", None, {"value": 2}, {"If-None-Match": "*"}, 412),
        ("PUT", "/v1/config/r3-refused", None, {"value": 2}, {"If-Match": '"1"'}, 412),
        ("PUT", "/v1/flags/f?env=r3-nosuch", None, {"value": 1}, None, 404),
        ("POST", "/v1/flags/f?env=r3-refused", None, {"value": 2, "revision": 1}, None, 409),
        ("POST", "/v1/environments", None, {"name": "r3-refused"}, None, 409),
        ("DELETE", "/v1/environments/r3-refused", None, None, None, 409),
        ("DELETE", "/v1/environments/default", None, None, None, 409),
        ("POST", "/v1/environments/r3-nosuch/rotate-key", None, None, None, 404),
        ("PUT", "/v1/segments/r3-refused", None, {"criteria": {}},
         {"If-Match": f'"{seg["revision"] + 100}"'}, 412),
        ("DELETE", "/v1/segments/r3-nosuch", None, None, None, 404),
        ("POST", "/v1/tokens", small, {"name": "more", "scopes": ["admin"]}, None, 403),
        ("DELETE", "/v1/tokens/0000000000000000", None, None, None, 404),
        ("POST", "/v1/users", None, {"name": "T", "email": "r3-ref@example.com"}, None, 409),
        ("PATCH", f"/v1/users/{user['id']}", None, {"email": "r3-ref2@example.com"}, merge, 409),
        ("DELETE", f"/v1/users/{user['id']}", None, None, {"If-Match": '"1"'}, 412),
        ("DELETE", "/usuarios/r3-nosuch", None, None, None, 404),
        ("POST", "/v1/services/r3-svc/instances/ffff/heartbeat", None, None, None, 404),
        ("DELETE", "/v1/services/r3-svc/instances/ffff", None, None, None, 404),
        ("POST", "/v1/locks/r3-refused", None, {"holder": "other"}, None, 409),
        ("DELETE", "/v1/locks/r3-refused", None, {"token": "dcl_" + "0" * 32}, None, 409),
        ("DELETE", "/lock/r3-nosuch", None, None, None, 404),
        ("POST", "/api/v1/identities/", None, {"identifier": "x", "traits": []},
         {"X-Environment-Key": "dcsdk_nope"}, 403),
    ]
    # "default" is made when first read: absent, a refusal must not make it.
    r.stack.etcdctl("del", "/dynconf/environments/default")
    mark = r.written("PUT", "/v1/config/r3-refused-mark", doc={"value": 1})
    r.row_of("config", "r3-refused-mark", mark.headers["x-request-id"])  # applied after
    time.sleep(0.3)
    records, rows = etcd_records(r.stack), r.rows()
    for method, path, token, doc, headers, status in refusals:
        resp = r.call(method, path, token or r.admin, doc, headers)
        assert resp.status == status, (method, path, resp)
        # In etcd as the answer comes, if at all: the same transaction.
        assert etcd_records(r.stack) == records, (method, path, resp,
                                                  etcd_records(r.stack) - records)
    time.sleep(0.5)
    assert etcd_records(r.stack) == records
    assert r.rows() == rows
    assert env["name"] == "r3-refused" and lock["token"]


def test_default_made_on_first_use_is_dynconfs_not_the_callers(r):
    """"default" is made when first needed (API.md §3), by any request that
    needs it, a read or a write then refused too: the record names dynconf
    itself, never that caller (a reader's GET /v1/flags was recorded as its
    creation of environments/default)."""
    reader, _ = r.token("r3-reader", ["flags:read"])
    assert r.call("GET", "/v1/environments/default", r.admin).status == 200
    r.stack.etcdctl("del", "/dynconf/environments/default")
    # Seen gone (reading it would make it again): etcd's delete listed.
    deleted = wait_until(lambda: [x for x in r.rows(resource="environments", key="default")
                                  if x["action"] == "delete" and x["actor"] == "etcd"],
                         timeout=5, what="default's delete to reach the replica")[0]
    got = r.call("GET", "/v1/flags", reader)
    assert got.status == 200, got
    request_id = got.headers["x-request-id"]

    def made():
        rows = [row for row in r.rows(resource="environments", key="default")
                if row["action"] == "create" and row["new_revision"] > deleted["new_revision"]]
        return rows[0] if rows else None
    row = wait_until(made, timeout=5, what="the record of default's making")
    assert (row["actor"], row["actor_kind"], row["token_id"]) == ("dynconf", "dynconf", None), row
    assert row["request_id"] is None, row
    assert not [x for x in r.rows(actor="r3-reader")], "the reader wrote nothing"
    assert not [x for x in r.rows() if x["request_id"] == request_id], row
    assert r.call("GET", "/v1/environments/default", r.admin).status == 200


def test_a_since_before_1970_lists_every_row(r):
    """Any RFC 3339 time is a since (API.md §14): one before 1970 (or at it,
    with an offset) keeps every row, where it was a 400."""
    every = r.audit("limit=1").json()["total"]
    assert every > 0
    for since in ("1969-12-31T23:59:59Z", "1970-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z"):
        resp = r.audit(urllib.parse.urlencode({"since": since, "limit": 1}))
        assert resp.status == 200, (since, resp)
        assert resp.json()["total"] >= every, (since, resp.json())
    problem_of(r.audit("since=1969-02-29T00:00:00Z"), 400, "invalid_query")


def test_record_keys_carry_the_writing_process_tag(r):
    """A record's key is audit/<time>-<request id>-<tag> (store/audit.h): a
    client sending one X-Request-Id to two processes in the same microsecond
    still makes two keys, each process drawing its own tag."""
    before = etcd_records(r.stack)
    # Eight writers at once: a responder answers one request at a time, so
    # overlapping writes are answered by several processes.
    start = threading.Barrier(8)

    def writer(w):
        start.wait()
        for i in range(5):
            r.written("PUT", f"/v1/config/r3-tag/{w}-{i}", doc={"value": i},
                      headers={"X-Request-Id": "r3-same-id"})
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = sorted(k.decode() for k in etcd_records(r.stack) - before)
    assert len(made) == 40, made
    pattern = re.compile(r"^/dynconf/audit/\d{4}-\d\d-\d\dT[\d:.]{15}Z-r3-same-id-([0-9a-f]{8})$")
    tags = set()
    for key in made:
        m = pattern.match(key)
        assert m, key
        tags.add(m.group(1))
    assert len(tags) >= 2, tags     # several write responders, each its own tag
