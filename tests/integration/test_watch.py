"""Watch without polling: GET /v1/watch (API.md section 6).

Immediate answers from the replica's event log, waiting watches woken by a
change through the API or straight in etcd within a second, timeouts, prefix
filtering, 410 once the history is gone, bad queries, and the cap on waiting
watches (server.max_watches). Waiting watches are held by the waiting
process (test_waiting.py tests it with thousands).

One stack serves the module: four responders, at most one waiting watch, and
a short history (replica.history = 100) so that compaction is quick to reach.
With one slot, a test that holds a watch open waits for the gauge to come
back to 0 before it ends, so the next test starts with the slot free.
"""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}
LONG = 75.0         # HTTP timeout for a watch (nginx allows 75 s)


def module_fixture():
    with harness.Stack(processes=4, overrides={"server.max_watches": 1,
                                               "replica.history": 100}) as stack:
        yield stack


# -- helpers

def put(stack, key, value):
    resp = stack.request("PUT", f"/v1/config/{key}",
                         body=json.dumps({"value": value}).encode(), headers=JSON)
    assert resp.status in (200, 201), resp
    return resp.json()["revision"]


def watch(stack, prefix, since=None, timeout=None, raw=None):
    """GET /v1/watch; raw is a ready-made query string."""
    if raw is None:
        query = {"prefix": prefix}
        if since is not None:
            query["since"] = since
        if timeout is not None:
            query["timeout"] = timeout
        raw = urllib.parse.urlencode(query, safe="/")
    return stack.request("GET", f"/v1/watch?{raw}", timeout=LONG)


def replica_revision(stack):
    """The node's replica revision, from a watch without since."""
    resp = watch(stack, "config/")
    assert resp.status == 200, resp
    return resp.json()["revision"]


def metric(stack, name):
    text = stack.request("GET", "/v1/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /v1/metrics")


def wait_idle(stack):
    wait_until(lambda: metric(stack, "dynconf_watches_waiting") == 0, timeout=10.0,
               what="no watch waiting")


def wait_applied(stack, revision):
    wait_until(lambda: replica_revision(stack) >= revision, timeout=2.0,
               what=f"the replica to reach revision {revision}")


class Watcher(threading.Thread):
    """A watch in the background; .resp and .answered_at (monotonic) when done."""

    def __init__(self, stack, prefix, since, timeout):
        super().__init__(daemon=True)
        self.stack, self.prefix, self.since, self.timeout = stack, prefix, since, timeout
        self.resp = self.error = self.answered_at = None
        self.started_at = time.monotonic()

    def run(self):
        try:
            self.resp = watch(self.stack, self.prefix, self.since, self.timeout)
        except Exception as e:  # noqa: BLE001 - reported by result()
            self.error = e
        self.answered_at = time.monotonic()

    def result(self):
        self.join(LONG)
        assert not self.is_alive(), "the watch never answered"
        assert self.error is None, self.error
        assert self.resp.status == 200, self.resp
        return self.resp.json()


def start_waiting(stack, prefix, since, timeout):
    """A background watch, once it is known to be waiting (it holds the slot)."""
    w = Watcher(stack, prefix, since, timeout)
    w.start()
    wait_until(lambda: w.resp is not None or metric(stack, "dynconf_watches_waiting") == 1,
               timeout=5.0, what="the watch to wait")
    assert w.resp is None, f"the watch answered at once: {w.resp!r}"
    return w


# -- immediate answers

def test_without_since_answers_the_revision_at_once(stack):
    put(stack, "nosince/x", 1)
    started = time.monotonic()
    resp = watch(stack, "config/nosince/", timeout=30)
    assert time.monotonic() - started < 1.0, "a watch without since waited"
    assert resp.status == 200, resp
    doc = resp.json()
    assert doc["events"] == [], doc
    assert doc["revision"] == int(resp.headers["x-dynconf-revision"]) > 0, (doc, resp.headers)
    assert resp.headers["cache-control"] == "no-store", resp.headers
    assert resp.headers["x-cache"] == "hit", resp.headers


def test_answers_at_once_with_put_and_delete_events(stack):
    since = replica_revision(stack)
    r1 = put(stack, "imm/a", {"x": 1})
    r2 = put(stack, "imm/b", "text")
    assert stack.request("DELETE", "/v1/config/imm/a").status == 204
    stack.etcdctl("put", "/dynconf/config/imm/c", "plain words")
    stack.etcdctl("put", "/dynconf/config/imm/d", "null")
    wait_until(lambda: len(watch(stack, "config/imm/", since, 0).json()["events"]) == 5,
               timeout=2.0, what="five events in the log")
    started = time.monotonic()
    resp = watch(stack, "config/imm/", since, 30)
    assert time.monotonic() - started < 1.0, "events were there, yet the watch waited"
    assert resp.status == 200, resp
    assert resp.headers["cache-control"] == "no-store", resp.headers
    assert int(resp.headers["x-dynconf-revision"]) >= r2, resp.headers
    doc = resp.json()
    events = doc["events"]
    assert [(e["type"], e["resource"], e["key"]) for e in events] == [
        ("put", "config", "imm/a"), ("put", "config", "imm/b"),
        ("delete", "config", "imm/a"), ("put", "config", "imm/c"),
        ("put", "config", "imm/d")], events
    assert events[0]["value"] == {"x": 1} and events[0]["revision"] == r1, events
    assert events[1]["value"] == "text" and events[1]["revision"] == r2, events
    assert "value" not in events[2] and events[2]["revision"] > r2, events
    assert events[3]["value"] == "plain words", events
    assert "value" in events[4] and events[4]["value"] is None, events
    revisions = [e["revision"] for e in events]
    assert revisions == sorted(revisions) and len(set(revisions)) == 5, revisions
    assert doc["revision"] == revisions[-1], doc
    # From the answer's revision on, nothing is left: a short wait, then empty.
    again = watch(stack, "config/imm/", doc["revision"], 1).json()
    assert again["events"] == [], again


def test_only_events_after_since(stack):
    since = replica_revision(stack)
    put(stack, "after/one", 1)
    r2 = put(stack, "after/two", 2)
    wait_applied(stack, r2)
    doc = watch(stack, "config/after/", r2 - 1, 5).json()
    assert [(e["key"], e["revision"]) for e in doc["events"]] == [("after/two", r2)], doc
    doc = watch(stack, "config/after/", since, 5).json()
    assert [e["key"] for e in doc["events"]] == ["after/one", "after/two"], doc


def test_flag_and_service_keys(stack):
    since = replica_revision(stack)
    stack.etcdctl("put", "/dynconf/flags/prod/dark-mode", '{"enabled":true}')
    stack.etcdctl("put", "/dynconf/flags/staging/dark-mode", '{"enabled":false}')
    stack.etcdctl("put", "/dynconf/services/web/i-1", '{"address":"10.0.0.1"}')
    wait_until(lambda: watch(stack, "services/", since, 0).json()["events"],
               timeout=2.0, what="the service event")
    doc = watch(stack, "flags/prod/", since, 5).json()
    assert len(doc["events"]) == 1, doc
    event = doc["events"][0]
    assert (event["type"], event["resource"], event["key"]) == ("put", "flags", "dark-mode"), event
    assert event["environment"] == "prod" and event["value"] == {"enabled": True}, event
    both = watch(stack, "flags/", since, 5).json()["events"]
    assert [e["environment"] for e in both] == ["prod", "staging"], both
    doc = watch(stack, "services/web/", since, 5).json()
    assert [(e["resource"], e["key"], e["value"]) for e in doc["events"]] == [
        ("services", "web/i-1", {"address": "10.0.0.1"})], doc


# -- waiting

def test_api_put_wakes_a_waiting_watch(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    w = start_waiting(stack, "config/wake/api/", since, 20)
    changed_at = time.monotonic()
    revision = put(stack, "wake/api/x", [1, 2])
    doc = w.result()
    assert w.answered_at - changed_at < 1.0, f"woken after {w.answered_at - changed_at:.2f} s"
    assert [(e["type"], e["key"], e["value"], e["revision"]) for e in doc["events"]] == [
        ("put", "wake/api/x", [1, 2], revision)], doc
    assert doc["revision"] == revision, doc
    wait_idle(stack)


def test_etcdctl_put_wakes_a_waiting_watch_within_a_second(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    w = start_waiting(stack, "config/wake/etcd/", since, 20)
    changed_at = time.monotonic()
    stack.etcdctl("put", "/dynconf/config/wake/etcd/x", "42")
    doc = w.result()
    assert w.answered_at - changed_at < 1.0, f"woken after {w.answered_at - changed_at:.2f} s"
    assert [(e["type"], e["key"], e["value"]) for e in doc["events"]] == [
        ("put", "wake/etcd/x", 42)], doc
    wait_idle(stack)


def test_etcdctl_delete_wakes_a_waiting_watch(stack):
    wait_idle(stack)
    revision = put(stack, "wake/del/x", "bye")
    wait_applied(stack, revision)
    w = start_waiting(stack, "config/wake/del/", revision, 20)
    changed_at = time.monotonic()
    stack.etcdctl("del", "/dynconf/config/wake/del/x")
    doc = w.result()
    assert w.answered_at - changed_at < 1.0, f"woken after {w.answered_at - changed_at:.2f} s"
    assert len(doc["events"]) == 1, doc
    event = doc["events"][0]
    assert (event["type"], event["resource"], event["key"]) == ("delete", "config", "wake/del/x"), doc
    assert "value" not in event and event["revision"] > revision, event
    assert doc["revision"] == event["revision"], doc
    wait_idle(stack)


def test_timeout_answers_with_no_events(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    started = time.monotonic()
    resp = watch(stack, "config/quiet/", since, 1)
    took = time.monotonic() - started
    assert resp.status == 200, resp
    assert 0.9 <= took < 2.0, f"a 1 s watch answered after {took:.2f} s"
    doc = resp.json()
    assert doc["events"] == [] and doc["revision"] >= since, doc
    assert resp.headers["cache-control"] == "no-store", resp.headers
    assert "x-dynconf-revision" in resp.headers, resp.headers


def test_changes_under_another_prefix_neither_wake_nor_appear(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    w = start_waiting(stack, "config/filter/a/", since, 10)
    put(stack, "filter/b/x", 1)
    put(stack, "filter/ab", 2)          # shares the text "a" but not the folder
    stack.etcdctl("put", "/dynconf/flags/prod/filter", "{}")
    time.sleep(0.5)
    assert w.resp is None, f"a change elsewhere woke the watch: {w.resp!r}"
    revision = put(stack, "filter/a/hit", 3)
    doc = w.result()
    assert [(e["key"], e["revision"]) for e in doc["events"]] == [("filter/a/hit", revision)], doc
    wait_idle(stack)


# -- errors

def test_history_compacted(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    last = 0
    for i in range(110):
        last = put(stack, f"compact/k{i % 7}", i)
    wait_applied(stack, last)
    doc = assert_problem(watch(stack, "config/compact/", since, 5), 410, "history_compacted")
    assert "list again" in doc["detail"], doc
    # Recent history is still there.
    recent = watch(stack, "config/compact/", last - 1, 5).json()
    assert [e["revision"] for e in recent["events"]] == [last], recent


def test_bad_queries(stack):
    assert_problem(watch(stack, None, raw="since=1"), 400, "invalid_query")
    for prefix in ("", "config", "environments/", "users/", "configx/a", "config//x",
                   "config/./x", "config/../flags/", "config/a b/", "flags/prod/.hidden",
                   "services/web//", "/config/", "config/" + "a/" * 260):
        assert_problem(watch(stack, prefix, 1, 1), 400, "invalid_key")
    for since in ("-1", "abc", "", "1.5", "99999999999999999999"):
        assert_problem(watch(stack, None, raw=f"prefix=config/&since={since}"),
                       400, "invalid_query")
    for timeout in ("61", "-1", "abc", "", "3600"):
        assert_problem(watch(stack, None, raw=f"prefix=config/&since=1&timeout={timeout}"),
                       400, "invalid_query")
    for prefix in ("config/", "flags/", "services/", "config/a", "flags/prod/",
                   "services/web/", "config/a/b-c_d.e/"):
        resp = watch(stack, prefix, replica_revision(stack), 0)
        assert resp.status == 200, (prefix, resp)


# -- the cap on waiting watches

def test_watches_beyond_the_cap_get_429_and_the_pool_still_serves(stack):
    # A change of its own, so that the watch "with events" below has one
    # within this node's history even on a stack that has seen nothing yet.
    put(stack, "cap-seed/x", 1)
    wait_idle(stack)
    refused = metric(stack, "dynconf_watches_refused_total")
    since = replica_revision(stack)
    old = since - 1
    w = start_waiting(stack, "config/cap/", since, 5)
    assert metric(stack, "dynconf_watches_waiting") == 1
    started = time.monotonic()
    resp = watch(stack, "config/cap/other/", since, 30)
    assert time.monotonic() - started < 1.0, "the refused watch was not refused quickly"
    assert_problem(resp, 429, "too_many_watches")
    assert resp.headers["retry-after"] == "1", resp.headers
    assert metric(stack, "dynconf_watches_refused_total") == refused + 1
    # Ordinary requests are served meanwhile, and so is a watch with events.
    for _ in range(20):
        assert stack.request("GET", "/v1/health", timeout=2).status == 200
    assert watch(stack, "config/", old, 30).status == 200
    assert w.resp is None, "the held watch ended early"
    assert w.result()["events"] == []
    wait_idle(stack)
    assert watch(stack, "config/cap/", replica_revision(stack), 1).status == 200


def test_gauge_returns_to_zero_after_watches_end(stack):
    wait_idle(stack)
    since = replica_revision(stack)
    w = start_waiting(stack, "config/gauge/", since, 10)
    assert metric(stack, "dynconf_watches_waiting") == 1
    put(stack, "gauge/x", 1)
    assert len(w.result()["events"]) == 1
    # The slot is given back before the answer is sent.
    assert metric(stack, "dynconf_watches_waiting") == 0
    assert watch(stack, "config/gauge/", replica_revision(stack), 1).status == 200
    assert metric(stack, "dynconf_watches_waiting") == 0


def test_a_waiting_watch_outlives_its_responder(stack):
    """Issue 13: a waiting watch is the waiting process's, not its responder's.

    (It used to hold its responder, so killing that ended it in a 502 and
    the slot it held had to be taken back; now the watch waits on.)
    """
    wait_idle(stack)
    since = replica_revision(stack)
    w = start_waiting(stack, "config/killed/", since, 30)
    for pid in stack.pool.responder_pids():
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: len(stack.pool.responder_pids()) == 4, timeout=10.0,
               what="the master to replace its responders")
    assert w.resp is None, f"the watch ended with its responder: {w.resp!r}"
    assert metric(stack, "dynconf_watches_waiting") == 1
    revision = put(stack, "killed/x", 1)
    assert [e["revision"] for e in w.result()["events"]] == [revision]
    wait_idle(stack)


# -- a node without a replica

def test_cold_node_answers_503():
    """No etcd has ever been reached: no snapshot, nothing to watch from."""
    with harness.Stack(processes=2, etcd=False) as stack:
        resp = watch(stack, "config/", 1, 5)
        assert_problem(resp, 503, "store_unavailable")
        assert resp.headers.get("retry-after"), resp.headers


# -- long answers

def test_answers_are_capped_at_revision_boundaries():
    """At most 1000 events an answer, never half a revision; one revision whole."""
    with harness.Stack(processes=2, overrides={"replica.history": 5000}) as stack:
        since = replica_revision(stack)
        singles = [put(stack, f"many/k{i:04}", i) for i in range(998)]
        # Five keys in one etcd transaction: one revision, across the 1000 mark.
        txn = "\n" + "".join(f"put /dynconf/config/many/t{i} {i}\n" for i in range(5)) + "\n\n"
        done = subprocess.run(["etcdctl", "--endpoints", stack.etcd.url, "txn"], input=txn,
                              env=dict(os.environ, ETCDCTL_API="3"), capture_output=True,
                              text=True, timeout=harness.TIMEOUT)
        assert done.returncode == 0 and "SUCCESS" in done.stdout, (done.stdout, done.stderr)
        tail = [put(stack, f"many/z{i}", i) for i in range(10)]
        wait_applied(stack, tail[-1])

        first = watch(stack, "config/many/", since, 5).json()
        assert len(first["events"]) == 998, len(first["events"])
        assert [e["revision"] for e in first["events"]] == singles
        assert first["revision"] == singles[-1], first["revision"]
        second = watch(stack, "config/many/", first["revision"], 5).json()
        keys = [e["key"] for e in second["events"]]
        assert keys == [f"many/t{i}" for i in range(5)] + [f"many/z{i}" for i in range(10)], keys
        assert len({e["revision"] for e in second["events"][:5]}) == 1, second["events"][:5]
        assert second["revision"] == tail[-1], second["revision"]

        # etcdctl del --prefix: 1013 deletes in one revision, answered whole.
        stack.etcdctl("del", "--prefix", "/dynconf/config/many/")
        third = wait_until(lambda: watch(stack, "config/many/", tail[-1], 5).json(),
                           timeout=5.0, what="the deletes")
        events = third["events"]
        assert len(events) == 1013, len(events)
        assert {e["type"] for e in events} == {"delete"}, events[:3]
        assert len({e["revision"] for e in events}) == 1, "one revision"
        assert third["revision"] == events[0]["revision"] > tail[-1], third["revision"]
