"""The audit trail (API.md section 14) on a pool with auth.mode = on.

Every write through the API, of every resource and through the seed's
routes, lists in GET /v1/audit with its actor (the token's name, a JWT's
sub, sdk:ENV for an SDK key, dynconfctl:USER), action, resource, key, old
and new revision and the X-Request-Id it answered; a change made with
etcdctl lists as etcd's, a lapsed lease as the lease's, a heartbeat not
at all. The new revision is the record's own mod_revision in etcd (the
same transaction). Filters and paging, and their bad input (400, nothing
stored); 403 without audit:read; a refused write (400, 409, 412) records
nothing; a second node with its own replica lists the same records; a
record whose lease etcd no longer knows does not stop writes; with a tiny
retention the records leave etcd and the list by themselves.
"""

import base64
import hashlib
import hmac
import json
import re
import subprocess
import time
import urllib.parse

import harness
from harness import wait_until

JSON = {"Content-Type": "application/json"}
SECRET = "audit-test-hs256-secret-0123456789abcdef0123"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(sub, scope):
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": sub, "iat": now, "exp": now + 600,
                                 "scope": scope}).encode())
    sig = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


def auth_overrides(workdir):
    secret = workdir / "hs256.secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o644)
    return {"auth.mode": "on", "auth.jwt_hs256_secret_file": secret}


class Audit:
    """A stack with tokens of different names."""

    def __init__(self, stack):
        self.stack = stack
        self.admin = dynconfctl_token(stack, "root-admin", "admin")
        wait_until(lambda: self.call("GET", "/v1/tokens", self.admin).status == 200,
                   timeout=5, what="the bootstrap token to work")
        self.writer, self.writer_id = self.token("writer", ["admin"])
        self.other, self.other_id = self.token("other-writer", ["config:write"])
        self.auditor, _ = self.token("auditor", ["audit:read"])
        self.reader, _ = self.token("reader", ["config:read", "flags:read"])

    def token(self, name, scopes):
        made = self.call("POST", "/v1/tokens", self.admin, {"name": name, "scopes": scopes})
        assert made.status == 201, made
        return made.json()["token"], made.json()["id"]

    def call(self, method, path, token=None, doc=None, headers=None, raw=None, stack=None):
        return (stack or self.stack).call(method, path, token=token, doc=doc,
                                          headers=headers, raw=raw)

    def list(self, token=None, stack=None, **params):
        query = urllib.parse.urlencode(params)
        resp = self.call("GET", "/v1/audit" + (f"?{query}" if query else ""),
                         token or self.auditor, stack=stack)
        assert resp.status == 200, resp
        return resp.json()

    def rows(self, resource, key, stack=None, **params):
        return self.list(stack=stack, resource=resource, key=key, limit=1000,
                         **params)["items"]

    def row_of(self, resource, key, request_id, stack=None, timeout=5):
        """The row of key written by the request (waits for the watcher)."""
        def find():
            for row in self.rows(resource, key, stack=stack):
                if row["request_id"] == request_id:
                    return row
            return None
        return wait_until(find, timeout=timeout,
                          what=f"the audit row of {resource}/{key} by {request_id}")

    def etcd_records(self):
        """Every record in etcd: {request_id: (key, mod_revision, lease, doc)}."""
        out = json.loads(self.stack.etcdctl("get", "--prefix", "/dynconf/audit/",
                                            "-w", "json"))
        found = {}
        for kv in out.get("kvs", []):
            doc = json.loads(base64.b64decode(kv["value"]))
            found[doc.get("request_id")] = (base64.b64decode(kv["key"]).decode(),
                                            int(kv["mod_revision"]),
                                            int(kv.get("lease", 0)), doc)
        return found


def dynconfctl_token(stack, name, scopes):
    done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                           "token", "create", "--name", name, "--scopes", scopes],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def module_fixture():
    stack = harness.Stack(processes=2)
    stack.overrides = auth_overrides(stack.workdir)
    with stack:
        yield Audit(stack)


def written(a, method, path, token=None, doc=None, headers=None, raw=None):
    """A write that succeeded: its response."""
    resp = a.call(method, path, token or a.writer, doc, headers, raw)
    assert resp.status in (200, 201, 204), resp
    return resp


def check_row(a, row, resp, action, actor="writer", kind="token", old=None):
    assert row["action"] == action, row
    assert row["actor"] == actor and row["actor_kind"] == kind, row
    assert row["old_revision"] == old, row
    assert row["request_id"] == resp.headers["x-request-id"], (row, resp.headers)
    if kind == "token" and actor == "writer":
        assert row["token_id"] == a.writer_id, row
    # The record is in etcd, and its revision is the change's.
    record = a.etcd_records()[row["request_id"]]
    assert record[1] == row["new_revision"], (record, row)
    assert re.fullmatch(r"/dynconf/audit/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z-"
                        + re.escape(row["request_id"]) + r"-[0-9a-f]{8}", record[0]), record
    assert abs(time.time() - rfc3339(row["time"])) < 60, row


def rfc3339(text):
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


# -- each resource's writes

def test_config_create_update_delete(a):
    made = written(a, "PUT", "/v1/config/aud/x", doc={"value": 1},
                   headers={"X-Request-Id": "aud-config-1"})
    assert made.headers["x-request-id"] == "aud-config-1"
    rev1 = made.json()["revision"]
    row = a.row_of("config", "aud/x", "aud-config-1")
    check_row(a, row, made, "create")
    assert row["new_revision"] == rev1 and row["resource"] == "config"
    # Without an X-Request-Id: the one the server made and answered.
    again = written(a, "PUT", "/v1/config/aud/x", doc={"value": 2},
                    headers={"If-Match": f'"{rev1}"'})
    row = a.row_of("config", "aud/x", again.headers["x-request-id"])
    check_row(a, row, again, "update", old=rev1)
    assert row["new_revision"] == again.json()["revision"]
    gone = written(a, "DELETE", "/v1/config/aud/x")
    row = a.row_of("config", "aud/x", gone.headers["x-request-id"])
    check_row(a, row, gone, "delete", old=again.json()["revision"])
    assert row["new_revision"] > again.json()["revision"]
    # Newest first.
    rows = a.rows("config", "aud/x")
    assert [r["action"] for r in rows[:3]] == ["delete", "update", "create"], rows


def test_another_token_and_a_jwt_are_named(a):
    mine = written(a, "PUT", "/v1/config/aud/who", a.other, {"value": "o"})
    row = a.row_of("config", "aud/who", mine.headers["x-request-id"])
    check_row(a, row, mine, "create", actor="other-writer")
    assert row["token_id"] == a.other_id
    token = jwt("alice@example.com", "config:write")
    theirs = written(a, "PUT", "/v1/config/aud/who", token, {"value": "j"})
    row = a.row_of("config", "aud/who", theirs.headers["x-request-id"])
    check_row(a, row, theirs, "update", actor="alice@example.com", kind="jwt",
              old=mine.json()["revision"])
    assert row["token_id"] is None
    assert [r["new_revision"] for r in a.rows("config", "aud/who", actor="alice@example.com")] \
        == [theirs.json()["revision"]]


def test_flags_environments_segments(a):
    env = written(a, "POST", "/v1/environments", doc={"name": "aud-env"})
    row = a.row_of("environments", "aud-env", env.headers["x-request-id"])
    check_row(a, row, env, "create")
    rotated = written(a, "POST", "/v1/environments/aud-env/rotate-key")
    row = a.row_of("environments", "aud-env", rotated.headers["x-request-id"])
    check_row(a, row, rotated, "rotate_key", old=env.json()["revision"])
    # The SDK key's index entries are dynconf's own: never listed.
    assert not a.list(resource="index")["items"]
    flag = written(a, "PUT", "/v1/flags/aud-flag?env=aud-env", doc={"value": True})
    row = a.row_of("flags", "aud-env/aud-flag", flag.headers["x-request-id"])
    check_row(a, row, flag, "create")
    rev = flag.json()["revision"]
    upd = written(a, "POST", "/v1/flags/aud-flag?env=aud-env",
                  doc={"value": False, "revision": rev})
    check_row(a, a.row_of("flags", "aud-env/aud-flag", upd.headers["x-request-id"]),
              upd, "update", old=rev)
    seg = written(a, "PUT", "/v1/segments/aud-seg", doc={"criteria": {"plan": "pro"}})
    check_row(a, a.row_of("segments", "aud-seg", seg.headers["x-request-id"]), seg, "create")
    dseg = written(a, "DELETE", "/v1/segments/aud-seg")
    check_row(a, a.row_of("segments", "aud-seg", dseg.headers["x-request-id"]), dseg,
              "delete", old=seg.json()["revision"])
    dflag = written(a, "DELETE", "/v1/flags/aud-flag?env=aud-env")
    check_row(a, a.row_of("flags", "aud-env/aud-flag", dflag.headers["x-request-id"]),
              dflag, "delete", old=upd.json()["revision"])
    # Every flag of an environment: key ending in '/' lists all under it.
    assert {r["key"] for r in a.rows("flags", "aud-env/")} == {"aud-env/aud-flag"}
    denv = written(a, "DELETE", "/v1/environments/aud-env")
    check_row(a, a.row_of("environments", "aud-env", denv.headers["x-request-id"]), denv,
              "delete", old=rotated.json()["revision"])


def test_a_cascade_delete_lists_every_key(a):
    written(a, "POST", "/v1/environments", doc={"name": "aud-cascade"})
    for name in ("c1", "c2"):
        written(a, "PUT", f"/v1/flags/{name}?env=aud-cascade", doc={"value": 1})
    gone = written(a, "DELETE", "/v1/environments/aud-cascade?cascade=true")
    rid = gone.headers["x-request-id"]
    for resource, key in (("flags", "aud-cascade/c1"), ("flags", "aud-cascade/c2"),
                          ("environments", "aud-cascade")):
        row = a.row_of(resource, key, rid)
        assert row["action"] == "delete" and row["old_revision"] > 0, row
    revisions = {a.row_of(r, k, rid)["new_revision"]
                 for r, k in (("flags", "aud-cascade/c1"), ("environments", "aud-cascade"))}
    assert len(revisions) == 1, revisions


def test_tokens_and_users(a):
    made = written(a, "POST", "/v1/tokens", doc={"name": "aud-made", "scopes": ["flags:read"]})
    tid = made.json()["id"]
    check_row(a, a.row_of("tokens", tid, made.headers["x-request-id"]), made, "create")
    revoked = written(a, "DELETE", f"/v1/tokens/{tid}")
    row = a.row_of("tokens", tid, revoked.headers["x-request-id"])
    check_row(a, row, revoked, "delete",
              old=a.row_of("tokens", tid, made.headers["x-request-id"])["new_revision"])
    user = written(a, "POST", "/v1/users", doc={"name": "Ana", "email": "ana-aud@example.com"})
    uid = user.json()["id"]
    check_row(a, a.row_of("users", uid, user.headers["x-request-id"]), user, "create")
    patched = written(a, "PATCH", f"/v1/users/{uid}", doc={"age": 30},
                      headers={"Content-Type": "application/merge-patch+json"})
    check_row(a, a.row_of("users", uid, patched.headers["x-request-id"]), patched, "update",
              old=user.json()["revision"])
    put = written(a, "PUT", f"/v1/users/{uid}", doc={"name": "Ana B"})
    check_row(a, a.row_of("users", uid, put.headers["x-request-id"]), put, "update",
              old=patched.json()["revision"])
    gone = written(a, "DELETE", f"/v1/users/{uid}")
    check_row(a, a.row_of("users", uid, gone.headers["x-request-id"]), gone, "delete",
              old=put.json()["revision"])
    # The email index is dynconf's own.
    assert not a.list(resource="index")["items"]


def test_services_register_heartbeat_deregister(a):
    inst = written(a, "POST", "/v1/services/aud-svc/instances",
                   doc={"endpoint": "http://10.0.0.9:80"})
    key = f"aud-svc/{inst.json()['id']}"
    check_row(a, a.row_of("services", key, inst.headers["x-request-id"]), inst, "register")
    beat = written(a, "POST", f"/v1/services/{key.replace('/', '/instances/')}/heartbeat")
    assert beat.json()["revision"] > inst.json()["revision"]
    gone = written(a, "DELETE", f"/v1/services/{key.replace('/', '/instances/')}")
    row = a.row_of("services", key, gone.headers["x-request-id"])
    check_row(a, row, gone, "deregister", old=beat.json()["revision"])
    # The heartbeat rewrote the key on its lease: a renewal, not listed.
    time.sleep(0.5)
    assert [r["action"] for r in a.rows("services", key)] == ["deregister", "register"]
    # The seed's form.
    seed = written(a, "POST", "/servicos/registrar",
                   doc={"nome": "aud-seed-svc", "endpoint": "http://10.0.0.8:80"})
    row = a.row_of("services", f"aud-seed-svc/{seed.json()['id']}",
                   seed.headers["x-request-id"])
    check_row(a, row, seed, "register")
    written(a, "DELETE", f"/v1/services/aud-seed-svc/instances/{seed.json()['id']}")


def test_a_lapsed_lease_lists_as_the_lease(a):
    inst = written(a, "POST", "/v1/services/aud-lapse/instances",
                   doc={"endpoint": "http://10.0.0.7:80", "ttl": 5})
    key = f"aud-lapse/{inst.json()['id']}"

    def lapsed():
        rows = a.rows("services", key)
        return rows if rows and rows[0]["action"] == "delete" else None
    rows = wait_until(lapsed, timeout=15, what="the lapse in the audit trail")
    assert rows[0]["actor"] == "lease" and rows[0]["actor_kind"] == "lease", rows
    assert rows[0]["request_id"] is None and rows[0]["old_revision"] == inst.json()["revision"]


def test_locks(a):
    got = written(a, "POST", "/v1/locks/aud-lock", doc={"holder": "me"})
    row = a.row_of("locks", "aud-lock", got.headers["x-request-id"])
    check_row(a, row, got, "acquire")
    assert row["new_revision"] == got.json()["fencing_token"]
    # A refresh renews the lease: nothing is written, nothing listed.
    written(a, "POST", "/v1/locks/aud-lock/refresh", doc={"token": got.json()["token"]})
    gone = written(a, "DELETE", "/v1/locks/aud-lock", doc={"token": got.json()["token"]})
    check_row(a, a.row_of("locks", "aud-lock", gone.headers["x-request-id"]), gone,
              "release", old=got.json()["fencing_token"])
    # The seed's form, and a release by force (admin, no token).
    seed = written(a, "POST", "/lock/aud-seed-lock", doc={"holder": "s"})
    check_row(a, a.row_of("locks", "aud-seed-lock", seed.headers["x-request-id"]), seed,
              "acquire")
    forced = written(a, "DELETE", "/lock/aud-seed-lock")
    check_row(a, a.row_of("locks", "aud-seed-lock", forced.headers["x-request-id"]),
              forced, "release", old=seed.json()["fencing_token"])
    assert [r["action"] for r in a.rows("locks", "aud-lock")] == ["release", "acquire"]


def test_seed_routes(a):
    user = written(a, "POST", "/usuarios", doc={"nome": "Seed User"})
    uid = user.json()["id"]
    check_row(a, a.row_of("users", uid, user.headers["x-request-id"]), user, "create")
    put = written(a, "PUT", f"/usuarios/{uid}", doc={"nome": "Seed User 2"})
    assert a.row_of("users", uid, put.headers["x-request-id"])["action"] == "update"
    gone = written(a, "DELETE", f"/usuarios/{uid}")
    assert a.row_of("users", uid, gone.headers["x-request-id"])["action"] == "delete"
    conf = written(a, "PUT", "/config/aud-seed", doc={"valor": 3})
    check_row(a, a.row_of("config", "app/aud-seed", conf.headers["x-request-id"]), conf,
              "create")
    feat = written(a, "PUT", "/feature?feature=aud-feature", doc={"value": True})
    check_row(a, a.row_of("flags", "default/aud-feature", feat.headers["x-request-id"]),
              feat, "create")
    upd = written(a, "POST", "/feature?feature=aud-feature",
                  doc={"value": False, "revision": feat.json()["revision"]})
    check_row(a, a.row_of("flags", "default/aud-feature", upd.headers["x-request-id"]),
              upd, "update", old=feat.json()["revision"])


def test_flagsmith_identify_with_an_sdk_key(a):
    env = written(a, "POST", "/v1/environments", doc={"name": "aud-fs"})
    key = env.json()["sdk_key"]
    doc = {"identifier": "ana", "traits": [{"trait_key": "plan", "trait_value": "pro"}]}
    resp = a.call("POST", "/api/v1/identities/", None, doc, {"X-Environment-Key": key})
    assert resp.status == 200, resp
    row = a.row_of("identities", "aud-fs/ana", resp.headers["x-request-id"])
    assert row["actor"] == "sdk:aud-fs" and row["actor_kind"] == "sdk_key", row
    assert row["action"] == "create" and row["old_revision"] is None, row
    # The same traits again change nothing: nothing listed.
    again = a.call("POST", "/api/v1/identities/", None, doc, {"X-Environment-Key": key})
    assert again.status == 200
    time.sleep(0.3)
    assert len(a.rows("identities", "aud-fs/ana")) == 1


def test_dynconfctl_is_named(a):
    dynconfctl_token(a.stack, "aud-ctl", "flags:read")
    rows = wait_until(lambda: [r for r in a.list(resource="tokens", limit=1000)["items"]
                               if r["actor_kind"] == "dynconfctl"
                               and r["new_revision"] > 0] or None,
                      timeout=5, what="dynconfctl's record")
    assert all(re.fullmatch(r"dynconfctl:[\w.-]+", r["actor"]) for r in rows), rows


# -- changes made straight in etcd

def test_etcdctl_changes_list_as_etcd(a):
    a.stack.etcdctl("put", "/dynconf/config/aud/byhand", "1")
    row = wait_until(lambda: (a.rows("config", "aud/byhand") or [None])[0], timeout=5,
                     what="the etcdctl put")
    assert row["actor"] == "etcd" and row["actor_kind"] == "etcd", row
    assert row["action"] == "create" and row["old_revision"] is None, row
    assert row["request_id"] is None and row["token_id"] is None, row
    put_rev = row["new_revision"]
    a.stack.etcdctl("put", "/dynconf/config/aud/byhand", "2")
    a.stack.etcdctl("del", "/dynconf/config/aud/byhand")
    rows = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(
        a.rows("config", "aud/byhand")), timeout=5, what="the etcdctl put and del")
    assert [r["action"] for r in rows] == ["delete", "update", "create"], rows
    assert rows[1]["old_revision"] == put_rev and rows[0]["old_revision"] == rows[1]["new_revision"]
    assert {r["actor"] for r in rows} == {"etcd"}
    # dynconf's own keys, written by hand too, are never listed.
    a.stack.etcdctl("put", "/dynconf/index/aud/x", "1")
    time.sleep(0.5)
    assert a.list(resource="index")["total"] == 0


# -- the list

def test_filters_paging_and_order(a):
    revs = []
    for i in range(7):
        token = a.writer if i % 2 == 0 else a.other
        revs.append(written(a, "PUT", f"/v1/config/aud-page/k{i % 3}", token,
                            {"value": i}).json()["revision"])
    # Rows come with the watcher, a moment after the writes' answers.
    everything = wait_until(lambda: (lambda d: d if d["total"] == 7 else None)(
        a.list(resource="config", key="aud-page/", limit=1000)), timeout=5,
        what="the seven rows")
    assert len(everything["items"]) == 7, everything
    assert [r["new_revision"] for r in everything["items"]] == sorted(revs, reverse=True)
    page = a.list(resource="config", key="aud-page/", limit=3, offset=2)
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 2
    assert [r["new_revision"] for r in page["items"]] == sorted(revs, reverse=True)[2:5]
    assert a.list(resource="config", key="aud-page/", offset=7)["items"] == []
    exact = a.list(resource="config", key="aud-page/k1")
    assert exact["total"] == 2 and {r["key"] for r in exact["items"]} == {"aud-page/k1"}
    assert a.list(resource="config", key="aud-page/k")["total"] == 0   # not a prefix
    mine = a.list(resource="config", key="aud-page/", actor="other-writer")
    assert mine["total"] == 3 and {r["actor"] for r in mine["items"]} == {"other-writer"}
    after = a.list(resource="config", key="aud-page/", since=revs[3])
    assert [r["new_revision"] for r in after["items"]] == sorted(revs[4:], reverse=True)
    # since as a time: at or after it.
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert a.list(resource="config", key="aud-page/", since=future)["total"] == 0
    past = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    assert a.list(resource="config", key="aud-page/", since=past)["total"] == 7
    assert a.list(resource="nosuch")["total"] == 0
    # Without filters: everything, newest first, counted.
    whole = a.list(limit=5)
    assert whole["total"] >= 7 and len(whole["items"]) == 5
    assert whole["items"] == sorted(whole["items"], key=lambda r: r["new_revision"],
                                    reverse=True)
    resp = a.call("GET", "/v1/audit", a.auditor)
    assert resp.headers["x-cache"] == "hit" and int(resp.headers["x-dynconf-revision"]) > 0


BAD_QUERIES = [
    "limit=abc", "limit=0", "limit=1001", "limit=-1", "offset=-1", "offset=x",
    "limit=1.5", "since=yesterday", "since=2026-13-01T00:00:00Z", "since=-5",
    "since=2026-02-30T00:00:00Z", "since=99999999999999999999", "resource=a/b",
    "resource=", "key=", "actor=", "resource=config&resource=flags",
    "limit=5&limit=6", "actor=%00x", "key=a%00b", "since=", "key=%ZZ",
    "key=" + "k" * 5000,
]


def test_bad_queries_are_400_and_store_nothing(a):
    before = a.etcd_records()
    total = a.list()["total"]
    for query in BAD_QUERIES:
        resp = a.call("GET", f"/v1/audit?{query}", a.auditor)
        assert resp.status == 400, (query, resp)
        problem = resp.json()
        assert problem["code"] in ("invalid_query", "repeated_parameter",
                                   "invalid_encoding", "invalid_key"), (query, problem)
        assert problem["request_id"] == resp.headers["x-request-id"]
    assert a.etcd_records().keys() == before.keys()
    assert a.list()["total"] == total


def test_scope_audit_read(a):
    assert a.call("GET", "/v1/audit").status == 401
    denied = a.call("GET", "/v1/audit", a.reader)
    assert denied.status == 403 and denied.json()["code"] == "insufficient_scope", denied
    assert "audit:read" in denied.headers["www-authenticate"]
    assert a.call("GET", "/v1/audit", a.admin).status == 200
    assert a.call("GET", "/v1/audit", jwt("bob", "audit:read")).status == 200
    assert a.call("GET", "/v1/audit", jwt("bob", "config:write")).status == 403
    # The route is in the OpenAPI document, with its parameters.
    doc = a.call("GET", "/v1/openapi.json").json()
    op = doc["paths"]["/v1/audit"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"resource", "key", "actor", "since",
                                                     "limit", "offset"}


def test_refused_writes_record_nothing(a):
    first = written(a, "PUT", "/v1/config/aud/refused", doc={"value": 1})
    rev = first.json()["revision"]
    before = a.etcd_records()
    refused = [
        ("PUT", "/v1/config/aud/refused", {"nope": 1}, {}, 400),
        ("PUT", "/v1/config/aud/refused", {"value": 2}, {"If-Match": f'"{rev + 1000}"'}, 412),
        ("PUT", "/v1/config/aud/refused", {"value": 2}, {"If-None-Match": "*"}, 412),
        ("DELETE", "/v1/config/aud/never", None, {}, 404),
        ("PUT", "/v1/flags/aud-ref?env=nosuch-env", {"value": 1}, {}, 404),
        ("POST", "/v1/flags/aud-ref2", {"value": 1, "revision": 1}, {}, None),
        ("PUT", "/v1/config/-bad/key", {"value": 1}, {}, 400),
        ("POST", "/v1/users", {"name": ""}, {}, 400),
    ]
    for method, path, doc, headers, status in refused:
        resp = a.call(method, path, a.writer, doc, headers)
        assert resp.status >= 400 and (status is None or resp.status == status), (path, resp)
    # A lock held by another: 409.
    held = written(a, "POST", "/v1/locks/aud-held", doc={"holder": "one"})
    before = a.etcd_records()
    resp = a.call("POST", "/v1/locks/aud-held", a.writer, {"holder": "two"})
    assert resp.status == 409, resp
    # A segment in use: 409.
    written(a, "PUT", "/v1/segments/aud-used", doc={"criteria": {"x": 1}})
    written(a, "PUT", "/v1/flags/aud-uses", doc={"value": 1, "rules": [
        {"segments": ["aud-used"], "value": 2}]})
    before = a.etcd_records()
    resp = a.call("DELETE", "/v1/segments/aud-used", a.writer)
    assert resp.status == 409, resp
    # Forbidden: 403.
    assert a.call("PUT", "/v1/config/aud/refused", a.reader, {"value": 9}).status == 403
    time.sleep(0.5)
    assert a.etcd_records().keys() == before.keys()
    assert [r["new_revision"] for r in a.rows("config", "aud/refused")] == [rev]
    written(a, "DELETE", "/v1/locks/aud-held", doc={"token": held.json()["token"]})


# -- durable as the change

def test_a_second_node_lists_the_same_records(a):
    written(a, "PUT", "/v1/config/aud/durable", doc={"value": "before"})
    second = harness.Stack(processes=2, etcd=False,
                           overrides={**a.stack.overrides,
                                      "etcd.endpoints": a.stack.etcd.url})
    with second:
        wait_until(lambda: second.request("GET", "/v1/ready").status == 200,
                   what="the second node's replica")
        after = written(a, "PUT", "/v1/config/aud/durable", doc={"value": "after"})
        wait_until(lambda: any(r["request_id"] == after.headers["x-request-id"]
                               for r in a.rows("config", "aud/durable", stack=second)),
                   timeout=5, what="the new record on the second node")

        def api_rows(stack):
            rows = a.list(stack=stack, limit=1000)["items"]
            return {(r["new_revision"], r["resource"], r["key"]): r
                    for r in rows if r["request_id"] is not None}
        mine, theirs = api_rows(a.stack), api_rows(second)
        assert mine and mine.keys() == theirs.keys(), mine.keys() ^ theirs.keys()
        same = ("actor", "actor_kind", "token_id", "request_id", "time")
        for at, row in mine.items():
            other = theirs[at]
            assert all(row[f] == other[f] for f in same), (row, other)
            # From a snapshot, the old revision is unknown (null), and an
            # unconditional PUT of a key deleted since is "put" (created
            # or replaced); never anything else than what was seen live.
            assert other["old_revision"] in (None, row["old_revision"]), (row, other)
            assert other["action"] == row["action"] or (
                other["action"] == "put" and row["action"] in ("create", "update")), (row, other)
        assert any(r["old_revision"] is None and mine[at]["old_revision"] is not None
                   for at, r in theirs.items())
        # A record that came after the node started, it saw live: all of it.
        at = next(at for at, r in mine.items()
                  if r["request_id"] == after.headers["x-request-id"])
        assert theirs[at] == mine[at], (theirs[at], mine[at])


def test_a_lost_audit_lease_does_not_stop_writes(a):
    first = written(a, "PUT", "/v1/config/aud/lease", doc={"value": 1})
    lease = a.etcd_records()[first.headers["x-request-id"]][2]
    assert lease > 0
    # etcd revoked it (by hand): its records go, and the next write gets a new one.
    a.stack.etcdctl("lease", "revoke", format(lease, "x"))
    assert first.headers["x-request-id"] not in a.etcd_records()
    wait_until(lambda: not any(r["request_id"] == first.headers["x-request-id"]
                               for r in a.rows("config", "aud/lease")),
               timeout=5, what="the revoked record's row to go")
    nxt = written(a, "PUT", "/v1/config/aud/lease", doc={"value": 2})
    record = a.etcd_records()[nxt.headers["x-request-id"]]
    assert record[2] not in (0, lease), record
    a.row_of("config", "aud/lease", nxt.headers["x-request-id"])


def test_records_are_on_a_lease_of_the_retention(a):
    resp = written(a, "PUT", "/v1/config/aud/ttl", doc={"value": 1})
    lease = a.etcd_records()[resp.headers["x-request-id"]][2]
    out = a.stack.etcdctl("lease", "timetolive", format(lease, "x"))
    granted = int(re.search(r"granted with TTL\((\d+)s\)", out).group(1))
    # 90 days, plus at most the hour one lease is used for.
    assert 90 * 86400 <= granted <= 90 * 86400 + 3600, out


def test_retention_ends_records(a):
    with harness.Stack(processes=2, overrides={"audit.retention": "3s"}) as tiny:
        resp = tiny.request("PUT", "/v1/config/short", json.dumps({"value": 1}).encode(), JSON)
        assert resp.status == 201, resp
        tiny.etcdctl("put", "/dynconf/config/short-byhand", "1")
        rid = resp.headers["x-request-id"]

        def listed():
            return tiny.request("GET", "/v1/audit").json()["items"]
        wait_until(lambda: len(listed()) == 2, timeout=5, what="both rows")
        assert any(r["request_id"] == rid for r in listed())
        assert tiny.etcdctl("get", "--prefix", "--keys-only", "/dynconf/audit/").strip()
        started = time.time()
        wait_until(lambda: not tiny.etcdctl("get", "--prefix", "--keys-only",
                                            "/dynconf/audit/").strip(),
                   timeout=15, what="etcd to drop the record")
        wait_until(lambda: listed() == [], timeout=10, what="the rows to go")
        assert time.time() - started < 15
        # The config entries themselves stay.
        assert tiny.request("GET", "/v1/config/short").status == 200
