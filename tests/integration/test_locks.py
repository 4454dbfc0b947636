"""Distributed locks (API.md section 9) and the seed's /lock/{name}.

One stack with auth.mode = on serves the module: a bootstrap admin token
(dynconfctl) and a locks:write token made through the API. Every status and
error code of section 9; bad input for each field; the token stored only as
a hash; fencing tokens that strictly increase across holders, a lapse and
a forced release included; a lapse after ttl without refresh; the seed's
forms, the forced release for admin only and its log line; 8 clients
contending for one lock (never two holders, fencing tokens in acquisition
order, no acquisition lost), also on a 3-member etcd cluster whose leader
is killed meanwhile; and 503 with nothing half-done while etcd is down.

wait: a held lock waited for in the node's waiting process, not in a
responder: woken by a release or a lapse, oldest waiter first, 409 at its
deadline, 503 when the pool reloads, counted against server.max_watches
with the watches; contention with wait as well as with retries on 409.
"""

import base64
import hashlib
import json
import os
import random
import re
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}
TOKEN = re.compile(r"dcl_[0-9a-f]{32}")


def module_fixture():
    with harness.Stack(processes=2, overrides={"auth.mode": "on"}) as stack:
        stack.admin = bootstrap(stack)
        made = call(stack, "POST", "/v1/tokens", stack.admin,
                    {"name": "locker", "scopes": ["locks:write"]})
        assert made.status == 201, made
        stack.locker = made.json()["token"]
        yield stack


def bootstrap(stack):
    done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                           "token", "create", "--name", "root-of-all", "--scopes", "admin"],
                          capture_output=True, text=True, timeout=20, check=True)
    token = done.stdout.strip()
    wait_until(lambda: call(stack, "GET", "/v1/tokens", token).status == 200,
               timeout=5, what="the bootstrap token to work")
    return token


call = harness.Stack.call


def acquire(stack, name, holder="w1", ttl=None, token=None, **extra):
    doc = {"holder": holder, **extra}
    if ttl is not None:
        doc["ttl"] = ttl
    return call(stack, "POST", f"/v1/locks/{name}", token or stack.locker, doc)


def release(stack, name, lock_token, token=None):
    return call(stack, "DELETE", f"/v1/locks/{name}", token or stack.locker,
                headers={"X-Lock-Token": lock_token})


def refresh(stack, name, lock_token, token=None):
    return call(stack, "POST", f"/v1/locks/{name}/refresh", token or stack.locker,
                {"token": lock_token})


def rfc3339(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


def etcd_lock(stack, name):
    out = json.loads(stack.etcdctl("get", f"/dynconf/locks/{name}", "-w", "json"))
    kvs = out.get("kvs", [])
    return kvs[0] if kvs else None


# -- the API

def test_acquire_read_refresh_release(stack):
    before = time.time()
    got = acquire(stack, "basic", holder="worker-1", ttl=30)
    assert got.status == 201, got
    doc = got.json()
    assert set(doc) >= {"name", "holder", "token", "fencing_token", "ttl",
                        "acquired_at", "expires_at"}, doc
    assert doc["name"] == "basic" and doc["holder"] == "worker-1" and doc["ttl"] == 30
    assert TOKEN.fullmatch(doc["token"]), doc
    assert isinstance(doc["fencing_token"], int) and doc["fencing_token"] > 0
    assert got.headers["etag"] == f'"{doc["revision"]}"'
    assert before - 1 <= rfc3339(doc["acquired_at"]) <= time.time()
    assert abs(rfc3339(doc["expires_at"]) - (before + 30)) <= 2, doc
    # Held: 409 with who and until when, and when to come back.
    held = acquire(stack, "basic", holder="worker-2")
    problem = assert_problem(held, 409, "lock_held")
    assert problem["holder"] == "worker-1"
    assert abs(rfc3339(problem["expires_at"]) - rfc3339(doc["expires_at"])) <= 1
    assert 1 <= int(held.headers["retry-after"]) <= 31, held.headers
    # Anyone with locks:write reads it, never its token.
    seen = call(stack, "GET", "/v1/locks/basic", stack.locker)
    assert seen.status == 200, seen
    assert "token" not in seen.json() and doc["token"] not in seen.body.decode()
    assert seen.json()["holder"] == "worker-1"
    assert seen.json()["fencing_token"] == doc["fencing_token"]
    # Refresh: with the token in the body or in X-Lock-Token.
    time.sleep(1.1)
    renewed = refresh(stack, "basic", doc["token"])
    assert renewed.status == 200, renewed
    assert rfc3339(renewed.json()["expires_at"]) > rfc3339(doc["expires_at"]) - 1
    assert renewed.json()["fencing_token"] == doc["fencing_token"]
    assert "token" not in renewed.json()
    by_header = call(stack, "POST", "/v1/locks/basic/refresh", stack.locker,
                     headers={"X-Lock-Token": doc["token"]})
    assert by_header.status == 200, by_header
    # Release: 204, then it is not held.
    assert release(stack, "basic", doc["token"]).status == 204
    assert_problem(call(stack, "GET", "/v1/locks/basic", stack.locker), 404,
                   "lock_not_found")
    assert_problem(release(stack, "basic", doc["token"]), 404, "lock_not_found")
    assert_problem(refresh(stack, "basic", doc["token"]), 404, "lock_not_found")


def test_only_the_token_refreshes_or_releases(stack):
    doc = acquire(stack, "owned").json()
    other = "dcl_" + "0" * 32
    assert_problem(refresh(stack, "owned", other), 409, "not_lock_holder")
    assert_problem(release(stack, "owned", other), 409, "not_lock_holder")
    # Missing token: 400 naming it, on both.
    for method, path in (("POST", "/v1/locks/owned/refresh"), ("DELETE", "/v1/locks/owned")):
        resp = call(stack, method, path, stack.locker)
        problem = assert_problem(resp, 400, "lock_token_required")
        assert problem["errors"][0]["field"] == "token"
        resp = call(stack, method, path, stack.locker, {})
        assert_problem(resp, 400, "lock_token_required")
    # Not a lock token, or body and header that disagree: 400 naming it.
    for doc_token, header in (("dcl_XYZ", None), (doc["token"] + "0", None),
                              ("dct_" + "0" * 64, None), (doc["token"], other),
                              (123, None)):
        resp = call(stack, "POST", "/v1/locks/owned/refresh", stack.locker,
                    {"token": doc_token},
                    headers={"X-Lock-Token": header} if header else None)
        problem = assert_problem(resp, 400)
        assert problem["errors"][0]["field"] == "token", problem
    # Still held by its owner, who releases it.
    assert call(stack, "GET", "/v1/locks/owned", stack.locker).json()["holder"] == "w1"
    assert release(stack, "owned", doc["token"]).status == 204


def test_bad_input_is_refused_field_by_field(stack):
    cases = [
        ({"ttl": 30}, "holder"),
        ({"holder": ""}, "holder"),
        ({"holder": "h" * 257}, "holder"),
        ({"holder": 7}, "holder"),
        ({"holder": "w1\nINFO forged log line"}, "holder"),
        ({"holder": "tab\there"}, "holder"),
        ({"holder": "w", "ttl": 4}, "ttl"),
        ({"holder": "w", "ttl": 3601}, "ttl"),
        ({"holder": "w", "ttl": "30"}, "ttl"),
        ({"holder": "w", "ttl": 30.5}, "ttl"),
        ({"holder": "w", "wait": -1}, "wait"),
        ({"holder": "w", "wait": 61}, "wait"),
        ({"holder": "w", "token": "x"}, "token"),
    ]
    for doc, field in cases:
        resp = call(stack, "POST", "/v1/locks/bad-input", stack.locker, doc)
        problem = assert_problem(resp, 400)
        assert field in [e["field"] for e in problem["errors"]], (doc, problem)
    assert_problem(call(stack, "POST", "/v1/locks/bad-input", stack.locker, raw=b"[]"), 400)
    for name in ("bad%20name", "-x", "x" * 129):
        assert_problem(acquire(stack, name), 400, "invalid_key")
        assert_problem(call(stack, "GET", f"/v1/locks/{name}", stack.locker), 400,
                       "invalid_key")
    # Nothing was taken by any of it.
    assert_problem(call(stack, "GET", "/v1/locks/bad-input", stack.locker), 404)
    # The bounds themselves are fine.
    for ttl, wait in ((5, 0), (3600, 60)):
        got = acquire(stack, f"bounds-{ttl}", ttl=ttl, wait=wait)
        assert got.status == 201 and got.json()["ttl"] == ttl, got
        assert release(stack, f"bounds-{ttl}", got.json()["token"]).status == 204


def acquire_later(stack, name, holder, wait, results, token=None):
    """Acquire with wait in a thread; results gets (holder, response, seconds)."""
    def run():
        started = time.monotonic()
        resp = acquire(stack, name, holder=holder, wait=wait, token=token)
        results.append((holder, resp, time.monotonic() - started))
    t = threading.Thread(target=run)
    t.start()
    return t


def metric(stack, name):
    text = call(stack, "GET", "/v1/metrics", stack.admin).body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /v1/metrics")


def test_a_waiter_gets_the_lock_when_it_is_released(stack):
    first = acquire(stack, "waited").json()
    results = []
    t = acquire_later(stack, "waited", "w2", 10, results)
    wait_until(lambda: metric(stack, "dynconf_lock_waits_waiting") == 1, timeout=5,
               what="the waiter to wait")
    time.sleep(0.3)
    assert not results, "a held lock was given to a waiter"
    released = time.monotonic()
    assert release(stack, "waited", first["token"]).status == 204
    t.join(15)
    holder, resp, _ = results[0]
    woke = time.monotonic() - released
    assert resp.status == 201, resp
    doc = resp.json()
    assert doc["holder"] == "w2" and TOKEN.fullmatch(doc["token"])
    assert doc["fencing_token"] > first["fencing_token"]
    assert woke < 1.0, f"the waiter got the lock {woke:.2f} s after the release"
    assert release(stack, "waited", doc["token"]).status == 204


def test_a_waiter_gets_the_lock_when_it_lapses(stack):
    first = acquire(stack, "waited-lapse", ttl=5).json()
    results = []
    t = acquire_later(stack, "waited-lapse", "w2", 15, results)
    t.join(20)
    holder, resp, seconds = results[0]
    assert resp.status == 201, resp
    assert resp.json()["fencing_token"] > first["fencing_token"]
    assert 3 <= seconds <= 8, seconds
    assert release(stack, "waited-lapse", resp.json()["token"]).status == 204


def test_a_wait_that_runs_out_is_409(stack):
    first = acquire(stack, "waited-out", ttl=30).json()
    started = time.monotonic()
    resp = acquire(stack, "waited-out", holder="w2", wait=1)
    took = time.monotonic() - started
    doc = assert_problem(resp, 409, "lock_held")
    assert doc["holder"] == "w1" and int(resp.headers["retry-after"]) >= 1
    assert 0.9 <= took < 3, took
    assert release(stack, "waited-out", first["token"]).status == 204


def test_waiters_get_the_lock_oldest_first(stack):
    held = acquire(stack, "queue").json()
    results, threads = [], []
    for holder in ("q1", "q2", "q3", "q4"):
        threads.append(acquire_later(stack, "queue", holder, 20, results))
        n = len(threads)
        wait_until(lambda: metric(stack, "dynconf_lock_waits_waiting") >= n, timeout=5,
                   what=f"{holder} to wait")
    order, token = [], held["token"]
    for _ in range(4):
        got = len(results)
        assert release(stack, "queue", token).status == 204
        wait_until(lambda: len(results) > got, timeout=5, what="the next waiter")
        holder, resp, _ = results[-1]
        assert resp.status == 201, resp
        order.append(holder)
        token = resp.json()["token"]
    for t in threads:
        t.join(5)
    assert order == ["q1", "q2", "q3", "q4"], order
    assert release(stack, "queue", token).status == 204


def test_waiters_hold_no_responder(stack):
    held = acquire(stack, "crowded").json()
    results, threads = [], []
    for i in range(20):
        threads.append(acquire_later(stack, "crowded", f"c{i}", 30, results))
    wait_until(lambda: metric(stack, "dynconf_lock_waits_waiting") == 20, timeout=10,
               what="20 waiters")
    # Two read and the write responders of this stack are free for the rest.
    started = time.monotonic()
    for _ in range(20):
        assert call(stack, "GET", "/v1/health").status == 200
        other = acquire(stack, "not-crowded")
        assert other.status == 201, other
        assert release(stack, "not-crowded", other.json()["token"]).status == 204
    assert time.monotonic() - started < 10
    # Released one by one, each waiter gets it once.
    token = held["token"]
    for _ in range(20):
        got = len(results)
        assert release(stack, "crowded", token).status == 204
        wait_until(lambda: len(results) > got, timeout=5, what="the next waiter")
        token = results[-1][1].json()["token"]
    for t in threads:
        t.join(5)
    assert sorted(h for h, r, _ in results) == sorted(f"c{i}" for i in range(20))
    assert all(r.status == 201 for _, r, _ in results)
    assert release(stack, "crowded", token).status == 204


def test_the_token_is_stored_only_as_its_hash_on_a_lease(stack):
    doc = acquire(stack, "stored", ttl=30).json()
    kv = etcd_lock(stack, "stored")
    value = base64.b64decode(kv["value"]).decode()
    assert doc["token"] not in value and doc["token"][4:] not in value
    stored = json.loads(value)
    assert stored["sha256"] == hashlib.sha256(doc["token"].encode()).hexdigest()
    assert stored["holder"] == "w1"
    assert int(kv["lease"]) != 0
    assert int(kv["create_revision"]) == doc["fencing_token"]
    ttl = json.loads(stack.etcdctl("lease", "timetolive", "%x" % int(kv["lease"]),
                                   "-w", "json"))
    assert 25 <= ttl["ttl"] <= 30, ttl
    assert doc["token"] not in stack.pool.log_text()
    release(stack, "stored", doc["token"])
    assert etcd_lock(stack, "stored") is None


def test_fencing_tokens_increase_across_holders(stack):
    seen = []
    for holder in ("a", "b", "c"):
        doc = acquire(stack, "fence", holder=holder).json()
        seen.append(doc["fencing_token"])
        # Other keys change meanwhile: the fencing token is no counter of ours.
        assert call(stack, "PUT", "/v1/config/fence/x", stack.admin,
                    {"value": holder}).status in (200, 201)
        assert release(stack, "fence", doc["token"]).status == 204
    # After a forced release (admin, the seed's form) too.
    doc = acquire(stack, "fence", holder="d").json()
    seen.append(doc["fencing_token"])
    assert call(stack, "DELETE", "/lock/fence", stack.admin).status == 200
    seen.append(acquire(stack, "fence", holder="e").json()["fencing_token"])
    assert seen == sorted(seen) and len(set(seen)) == len(seen), seen


def test_a_lock_lapses_after_ttl_without_refresh(stack):
    got = acquire(stack, "lapse", ttl=5)
    acquired = time.time()
    doc = got.json()
    # Refreshed, it outlives its ttl.
    kept = acquire(stack, "kept", ttl=5).json()
    gone_at = None
    while time.time() < acquired + 9:
        if gone_at is None and call(stack, "GET", "/v1/locks/lapse", stack.locker).status == 404:
            gone_at = time.time()
        refresh(stack, "kept", kept["token"])
        time.sleep(0.1)
    assert gone_at is not None, "the lock never lapsed"
    assert 5 - 1 <= gone_at - acquired <= 5 + 1, gone_at - acquired
    assert call(stack, "GET", "/v1/locks/kept", stack.locker).status == 200
    # The next holder has a higher fencing token; the old token is useless.
    after = acquire(stack, "lapse", holder="next")
    assert after.status == 201 and after.json()["fencing_token"] > doc["fencing_token"]
    assert_problem(refresh(stack, "lapse", doc["token"]), 409, "not_lock_holder")
    release(stack, "lapse", after.json()["token"])
    assert_problem(refresh(stack, "lapse", doc["token"]), 404, "lock_not_found")
    release(stack, "kept", kept["token"])


# -- the seed's forms

def test_seed_lock_and_release(stack):
    got = call(stack, "POST", "/lock/seed-res", stack.locker, {"holder": "seed-1"})
    assert got.status == 200, got
    doc = got.json()
    assert doc["mensagem"] == "Lock adquirido" and doc["recurso"] == "seed-res"
    assert doc["holder"] == "seed-1" and TOKEN.fullmatch(doc["token"])
    assert isinstance(doc["fencing_token"], int) and doc["expires_at"]
    assert abs(rfc3339(doc["expires_at"]) - time.time() - 30) <= 2   # 30 s by default
    held = call(stack, "POST", "/lock/seed-res", stack.locker, {"holder": "seed-2"})
    problem = assert_problem(held, 409, "lock_held")
    assert problem["erro"] == "Recurso já bloqueado" and problem["holder"] == "seed-1"
    assert held.headers["retry-after"]
    # With the token (body or header) it is released.
    wrong = call(stack, "DELETE", "/lock/seed-res", stack.locker, {"token": "dcl_" + "1" * 32})
    assert_problem(wrong, 409, "not_lock_holder")
    done = call(stack, "DELETE", "/lock/seed-res", stack.locker, {"token": doc["token"]})
    assert done.status == 200 and done.json() == {"mensagem": "Lock liberado"}, done
    assert_problem(call(stack, "DELETE", "/lock/seed-res", stack.locker,
                        headers={"X-Lock-Token": doc["token"]}), 404, "lock_not_found")
    bad = call(stack, "POST", "/lock/seed-res", stack.locker, {"holder": "x", "ttl": 2})
    assert_problem(bad, 400)
    assert_problem(call(stack, "POST", "/lock/seed-res", stack.locker,
                        {"holder": "x", "wait": 1}), 400, "unknown_field")


def test_seed_forced_release_is_for_admin_only_and_logged(stack):
    doc = call(stack, "POST", "/lock/forced", stack.locker, {"holder": "stuck"}).json()
    # Without a token, a locks:write token may not.
    resp = call(stack, "DELETE", "/lock/forced", stack.locker)
    assert_problem(resp, 403, "insufficient_scope")
    assert call(stack, "GET", "/v1/locks/forced", stack.locker).status == 200
    # Nor without a token on /v1: that always needs the token.
    assert_problem(call(stack, "DELETE", "/v1/locks/forced", stack.admin), 400,
                   "lock_token_required")
    # An admin token may, and the log names it.
    resp = call(stack, "DELETE", "/lock/forced", stack.admin)
    assert resp.status == 200 and resp.json() == {"mensagem": "Lock liberado"}, resp
    stack.pool.wait_for_log(r'lock forced released by force by API token "root-of-all"'
                            r' \(id [0-9a-f]{16}\) \(holder stuck, fencing token %d\)'
                            % doc["fencing_token"])
    assert_problem(call(stack, "GET", "/v1/locks/forced", stack.locker), 404)
    assert_problem(refresh(stack, "forced", doc["token"]), 404, "lock_not_found")
    # Nothing held: 404 for anyone.
    assert_problem(call(stack, "DELETE", "/lock/forced", stack.locker), 404, "lock_not_found")
    nxt = call(stack, "POST", "/lock/forced", stack.locker, {"holder": "next"}).json()
    assert nxt["fencing_token"] > doc["fencing_token"]


def test_scopes(stack):
    reader = call(stack, "POST", "/v1/tokens", stack.admin,
                  {"name": "svc", "scopes": ["services:write", "config:write"]}).json()["token"]
    for method, path, doc in (("POST", "/v1/locks/s", {"holder": "x"}),
                              ("GET", "/v1/locks/s", None),
                              ("POST", "/lock/s", {"holder": "x"}),
                              ("DELETE", "/lock/s", None)):
        assert_problem(call(stack, method, path, reader, doc), 403, "insufficient_scope")
    assert_problem(call(stack, "GET", "/v1/locks/s"), 401, "unauthenticated")


# -- contention

class Contender(threading.Thread):
    """Acquires and releases one lock rounds times, retrying on 409 (and,
    with flaky, on what a failing-over etcd answers). Inside each holding it
    creates a file exclusively and removes it: two holders at once would
    find the file there. The shared log records the fencing tokens in the
    order the holdings happened."""

    def __init__(self, stack, token, lock, rounds, shared, flaky=False, wait=0):
        super().__init__(daemon=True)
        self.stack, self.token, self.lock, self.rounds = stack, token, lock, rounds
        self.shared, self.flaky, self.wait = shared, flaky, wait
        self.held = self.conflicts = self.errors = 0
        self.failure = None

    def request(self, method, path, doc=None, headers=None):
        try:
            return call(self.stack, method, path, self.token, doc, headers)
        except OSError:
            if not self.flaky:
                raise
            return None

    def hold(self, doc):
        """The critical section: the marker file is ours alone."""
        fd = os.open(self.shared["marker"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        try:
            self.shared["log"].append(doc["fencing_token"])
            time.sleep(random.random() * 0.002)
        finally:
            os.close(fd)
            os.unlink(self.shared["marker"])

    def release(self, lock_token):
        """Until released, or gone by itself (a retried revoke finds it gone)."""
        while True:
            resp = self.request("DELETE", f"/v1/locks/{self.lock}",
                                headers={"X-Lock-Token": lock_token})
            if resp is not None and resp.status in (204, 404):
                return
            if not self.flaky or (resp is not None and resp.status == 409):
                raise AssertionError(f"release: {resp!r}")
            self.errors += 1
            time.sleep(0.05)

    def run(self):
        try:
            while self.held < self.rounds:
                doc = {"holder": self.name, "ttl": 5}
                if self.wait:
                    doc["wait"] = self.wait
                resp = self.request("POST", f"/v1/locks/{self.lock}", doc)
                if resp is not None and resp.status == 201:
                    self.hold(resp.json())
                    self.held += 1
                    self.release(resp.json()["token"])
                elif resp is not None and resp.status == 409:
                    self.conflicts += 1
                    time.sleep(random.random() * 0.004)
                elif self.flaky:
                    self.errors += 1
                    time.sleep(0.05)
                else:
                    raise AssertionError(f"acquire: {resp!r}")
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.failure = e


def contend(stack, token, name, clients, rounds, flaky=False, during=None, wait=0):
    workdir = tempfile.mkdtemp(prefix="dynconf-lock.")
    shared = {"marker": os.path.join(workdir, "held"), "log": []}
    threads = [Contender(stack, token, name, rounds, shared, flaky, wait)
               for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    if during is not None:
        during(shared)
    for t in threads:
        t.join(150)
    seconds = time.monotonic() - started
    os.rmdir(workdir)
    failures = [t.failure for t in threads if t.failure is not None]
    assert not failures, failures[0]
    assert all(not t.is_alive() for t in threads), "a client never finished"
    log = shared["log"]
    # No acquisition lost: every client held it rounds times.
    assert [t.held for t in threads] == [rounds] * clients
    assert len(log) == clients * rounds
    # Strictly increasing in the order the holdings happened.
    bad = [(a, b) for a, b in zip(log, log[1:]) if b <= a]
    assert not bad, f"fencing tokens out of order: {bad[:5]}"
    print(f"{clients} clients x {rounds} holdings in {seconds:.1f} s, "
          f"{sum(t.conflicts for t in threads)} conflicts, "
          f"{sum(t.errors for t in threads)} failed calls")
    return threads


def test_eight_clients_never_hold_at_once(stack):
    contend(stack, stack.locker, "contended", clients=8, rounds=200)


def test_eight_waiting_clients_never_hold_at_once(stack):
    """With wait, a client is given the lock rather than retrying: none
    starves (each waits at most 10 s, and every acquisition comes)."""
    threads = contend(stack, stack.locker, "contended-wait", clients=8, rounds=200, wait=10)
    # Woken waiters, not retries, hand the lock on: few 409s at all.
    assert sum(t.conflicts for t in threads) < 8 * 200 / 4


def test_eight_clients_through_an_etcd_leader_loss():
    from test_cluster import cluster_stack
    with cluster_stack() as (stack, cluster):
        held_before = []

        def kill_the_leader(shared):
            # A quarter of the holdings first: with wait they come fast.
            wait_until(lambda: len(shared["log"]) >= 8 * 120 // 4, timeout=60,
                       what="a quarter of the holdings")
            leader = cluster.leader()
            held_before.append(len(shared["log"]))
            cluster.kill(leader)
            time.sleep(4)
            cluster.start(leader)
        contend(stack, None, "failover", clients=8, rounds=120, flaky=True,
                during=kill_the_leader, wait=10)
        # The leader went in the middle: holdings before it and after it.
        assert 0 < held_before[0] < 8 * 120, held_before


# -- etcd out of reach

def test_etcd_down_is_503_and_nothing_half_done():
    with harness.Stack(processes=2) as stack:
        def lock_call(method, path, doc=None, headers=None):
            return call(stack, method, path, None, doc, headers)
        doc = lock_call("POST", "/v1/locks/down", {"holder": "before"}).json()
        leases_before = stack.etcdctl("lease", "list")
        ports = stack.etcd.client_port, stack.etcd.peer_port
        stack.etcd.stop()
        stack.etcd = None
        wait_until(lambda: stack.request("GET", "/v1/health").json()["etcd"] == "down",
                   timeout=5, what="etcd down")
        for method, path, body, headers in (
                ("POST", "/v1/locks/down", {"holder": "during"}, None),
                ("POST", "/v1/locks/other", {"holder": "during"}, None),
                ("GET", "/v1/locks/down", None, None),
                ("POST", "/v1/locks/down/refresh", {"token": doc["token"]}, None),
                ("DELETE", "/v1/locks/down", None, {"X-Lock-Token": doc["token"]}),
                ("POST", "/lock/other", {"holder": "during"}, None)):
            resp = lock_call(method, path, body, headers)
            assert_problem(resp, 503, "store_unavailable")
            assert resp.headers["retry-after"]
        stack.etcd = harness.Etcd(stack.workdir, *ports)
        wait_until(lambda: lock_call("GET", "/v1/locks/down").status == 200, timeout=10,
                   what="etcd back")
        # Still held as before, by its token; no other lock, no stray lease.
        assert lock_call("GET", "/v1/locks/down").json()["holder"] == "before"
        assert_problem(lock_call("GET", "/v1/locks/other"), 404, "lock_not_found")
        assert stack.etcdctl("lease", "list") == leases_before
        assert lock_call("DELETE", "/v1/locks/down", None,
                         {"X-Lock-Token": doc["token"]}).status == 204


def test_the_token_reaches_dynconf_through_apache_too():
    """X-Lock-Token and a DELETE's body, as Apache's mod_proxy_fcgi passes them."""
    with harness.Stack(processes=1, web=("apache",)) as stack:
        def lock_call(method, path, doc=None, headers=None):
            h = dict(headers or {})
            body = None
            if doc is not None:
                body = json.dumps(doc).encode()
                h.update(JSON)
            return stack.request(method, path, body=body, headers=h, via="apache")
        for how in ("header", "body"):
            got = lock_call("POST", "/v1/locks/apache", {"holder": "a"})
            assert got.status == 201, got
            token = got.json()["token"]
            assert_problem(lock_call("DELETE", "/v1/locks/apache"), 400,
                           "lock_token_required")
            if how == "header":
                resp = lock_call("DELETE", "/v1/locks/apache",
                                 headers={"X-Lock-Token": token})
            else:
                resp = lock_call("DELETE", "/v1/locks/apache", {"token": token})
            assert resp.status == 204, (how, resp)


# -- waits and the waiting process

def test_lock_waits_share_the_cap_with_watches():
    with harness.Stack(processes=2, overrides={"server.max_watches": 3}) as stack:
        def lock_call(doc):
            return call(stack, "POST", "/v1/locks/capped", None, doc)
        held = lock_call({"holder": "h"}).json()
        since = stack.request("GET", "/v1/watch?prefix=config/").json()["revision"]
        results, threads = [], []

        def watch():
            results.append(stack.request(
                "GET", f"/v1/watch?prefix=config/cap/&since={since}&timeout=20"))
        for _ in range(2):
            threads.append(threading.Thread(target=watch))
            threads[-1].start()
        waiter = []
        threads.append(threading.Thread(
            target=lambda: waiter.append(lock_call({"holder": "w", "wait": 20}))))
        threads[-1].start()
        wait_until(lambda: "dynconf_lock_waits_waiting 1" in
                   stack.request("GET", "/v1/metrics").body.decode() and
                   "dynconf_watches_waiting 2" in
                   stack.request("GET", "/v1/metrics").body.decode(),
                   timeout=5, what="two watches and a lock wait")
        resp = lock_call({"holder": "x", "wait": 5})
        assert_problem(resp, 429, "too_many_watches")
        assert resp.headers["retry-after"] == "1"
        assert "dynconf_lock_waits_refused_total 1" in \
            stack.request("GET", "/v1/metrics").body.decode()
        # Without wait a held lock is still 409 at once: nothing waits.
        assert_problem(lock_call({"holder": "x"}), 409, "lock_held")
        assert call(stack, "DELETE", "/v1/locks/capped", None,
                    headers={"X-Lock-Token": held["token"]}).status == 204
        threads[-1].join(10)
        assert waiter[0].status == 201, waiter[0]
        assert call(stack, "PUT", "/v1/config/cap/x", None, {"value": 1}).status == 201
        for t in threads:
            t.join(10)
        assert all(r.status == 200 for r in results), results


def test_a_reload_answers_lock_waits_with_503():
    import signal
    with harness.Stack(processes=2) as stack:
        held = call(stack, "POST", "/v1/locks/reloaded", None, {"holder": "h"}).json()
        results = []
        threads = [threading.Thread(target=lambda: results.append(call(
            stack, "POST", "/v1/locks/reloaded", None, {"holder": "w", "wait": 30})))
            for _ in range(5)]
        for t in threads:
            t.start()
        wait_until(lambda: "dynconf_lock_waits_waiting 5" in
                   stack.request("GET", "/v1/metrics").body.decode(),
                   timeout=5, what="five lock waits")
        started = time.monotonic()
        stack.pool.signal(signal.SIGHUP)
        for t in threads:
            t.join(10)
        assert time.monotonic() - started < 5
        for resp in results:
            assert_problem(resp, 503, "wait_unavailable")
            assert resp.headers["retry-after"] == "1"
        # Nobody got it meanwhile: the holder holds it still.
        assert call(stack, "GET", "/v1/locks/reloaded").json()["holder"] == "h"
        assert call(stack, "DELETE", "/v1/locks/reloaded", None,
                    headers={"X-Lock-Token": held["token"]}).status == 204
