"""Service discovery (API.md section 8), the seed's /servicos forms, and the
lease layer under it (and under locks, section 9).

Two pools with replicas of their own serve the module, over one etcd:
instances registered through the first are listed by the second within a
second, and gone from it within a second of their expiry or
deregistration. Also: every status and error code of section 8, bad input
for each field, heartbeats that keep an instance and their 404 once it
expired, a list that never shows an expired instance even while the
replica still holds it (the watcher stopped), the watch on services/, the
seed's forms, 503 while etcd is down, and a lease's keys (an instance's,
a lock's) gone from every node's replica when it lapses.
"""

import base64
import json
import os
import signal
import sqlite3
import time
import urllib.parse
from datetime import datetime, timezone

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}


def module_fixture():
    with harness.Stack(processes=2) as first:
        overrides = {"etcd.endpoints": first.etcd.url}
        with harness.Stack(processes=2, etcd=False, overrides=overrides) as second:
            first.other = second
            yield first


def call(stack, method, path, doc=None, raw=None):
    body = json.dumps(doc).encode() if doc is not None else raw
    return stack.request(method, path, body=body,
                         headers=JSON if body is not None else None)


def register(stack, name, endpoint="http://10.0.0.5:8080", **extra):
    resp = call(stack, "POST", f"/v1/services/{name}/instances",
                {"endpoint": endpoint, **extra})
    assert resp.status == 201, resp
    return resp.json()


def listed(stack, name):
    resp = stack.request("GET", f"/v1/services/{name}")
    assert resp.status == 200, resp
    return {i["id"]: i for i in resp.json()["instances"]}


def rfc3339(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


def replica_keys(stack, prefix):
    """The live rows of the node's replica file under prefix."""
    db = sqlite3.connect(f"file:{stack.state_dir / 'replica.db'}?mode=ro", uri=True,
                         timeout=5)
    try:
        return {k for (k,) in db.execute(
            "SELECT key FROM kv WHERE deleted = 0 AND key >= ? AND key < ?",
            (prefix, prefix + "\xff"))}
    finally:
        db.close()


def test_register_read_heartbeat_deregister(stack):
    before = time.time()
    inst = register(stack, "web", ttl=30, metadata={"zone": "a", "weight": 3})
    assert set(inst) >= {"id", "service", "endpoint", "metadata", "ttl",
                         "registered_at", "expires_at", "revision"}, inst
    assert "expires" not in inst
    assert len(inst["id"]) == 16 and int(inst["id"], 16) > 0
    assert inst["service"] == "web" and inst["endpoint"] == "http://10.0.0.5:8080"
    assert inst["metadata"] == {"zone": "a", "weight": 3} and inst["ttl"] == 30
    assert before - 1 <= rfc3339(inst["registered_at"]) <= time.time()
    assert abs(rfc3339(inst["expires_at"]) - (before + 30)) <= 2
    assert listed(stack, "web")[inst["id"]]["endpoint"] == inst["endpoint"]
    # The default ttl is 30 s, metadata {}.
    plain = register(stack, "web", endpoint="10.0.0.6:80")
    assert plain["ttl"] == 30 and plain["metadata"] == {}
    # A heartbeat renews it and says until when.
    time.sleep(1.1)
    beat = stack.request("POST", f"/v1/services/web/instances/{inst['id']}/heartbeat")
    assert beat.status == 200, beat
    assert rfc3339(beat.json()["expires_at"]) >= rfc3339(inst["expires_at"]) + 1
    assert beat.json()["registered_at"] == inst["registered_at"]
    assert beat.json()["revision"] > inst["revision"]
    # Deregistered: 204, gone at once on this node, 404 after.
    path = f"/v1/services/web/instances/{inst['id']}"
    assert stack.request("DELETE", path).status == 204
    assert inst["id"] not in listed(stack, "web")
    assert_problem(stack.request("DELETE", path), 404, "instance_not_found")
    assert_problem(stack.request("POST", path + "/heartbeat"), 404, "instance_not_found")
    leases = stack.etcdctl("lease", "list")
    assert inst["id"] not in leases and plain["id"] in leases, leases
    assert stack.request("DELETE", f"/v1/services/web/instances/{plain['id']}").status == 204


def test_unknown_instances_are_404(stack):
    inst = register(stack, "known")
    for path in ("/v1/services/known/instances/0000000000000001/heartbeat",
                 "/v1/services/known/instances/not-hex/heartbeat",
                 "/v1/services/known/instances/" + inst["id"].upper() + "/heartbeat",
                 f"/v1/services/other/instances/{inst['id']}/heartbeat"):
        assert_problem(stack.request("POST", path), 404, "instance_not_found")
    for path in ("/v1/services/known/instances/0000000000000001",
                 f"/v1/services/other/instances/{inst['id']}"):
        assert_problem(stack.request("DELETE", path), 404, "instance_not_found")
    # None of it touched the instance.
    assert inst["id"] in listed(stack, "known")
    assert listed(stack, "never-registered") == {}
    stack.request("DELETE", f"/v1/services/known/instances/{inst['id']}")


def test_bad_input_is_refused_field_by_field(stack):
    cases = [
        ({}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"endpoint": 80}, "endpoint"),
        ({"endpoint": "10.0.0.5"}, "endpoint"),
        ({"endpoint": "ftp://h:21"}, "endpoint"),
        ({"endpoint": "http://"}, "endpoint"),
        ({"endpoint": "http://user:pw@h"}, "endpoint"),
        ({"endpoint": "http://h:70000"}, "endpoint"),
        ({"endpoint": "http://h h"}, "endpoint"),
        ({"endpoint": "http://h/" + "x" * 1024}, "endpoint"),
        ({"endpoint": "h:1", "ttl": 4}, "ttl"),
        ({"endpoint": "h:1", "ttl": 3601}, "ttl"),
        ({"endpoint": "h:1", "ttl": "30"}, "ttl"),
        ({"endpoint": "h:1", "metadata": ["a"]}, "metadata"),
        ({"endpoint": "h:1", "metadata": "a"}, "metadata"),
        ({"endpoint": "h:1", "metadata": {"k": "x" * 5000}}, "metadata"),
        ({"endpoint": "h:1", "extra": 1}, "extra"),
    ]
    for doc, field in cases:
        problem = assert_problem(call(stack, "POST", "/v1/services/bad/instances", doc), 400)
        assert field in [e["field"] for e in problem["errors"]], (doc, problem)
    assert_problem(call(stack, "POST", "/v1/services/bad/instances", raw=b"[1]"), 400)
    for name in ("b%20d", "-x", "x" * 129):
        assert_problem(call(stack, "POST", f"/v1/services/{name}/instances",
                            {"endpoint": "h:1"}), 400, "invalid_key")
        assert_problem(stack.request("GET", f"/v1/services/{name}"), 400, "invalid_key")
    assert listed(stack, "bad") == {}
    # The bounds themselves are fine.
    for ttl in (5, 3600):
        inst = register(stack, "bounds", endpoint="https://[::1]:443/x", ttl=ttl,
                        metadata={"k": "x" * 4088})
        assert inst["ttl"] == ttl
        stack.request("DELETE", f"/v1/services/bounds/instances/{inst['id']}")


def test_expiry_heartbeats_and_a_second_pool(stack):
    other = stack.other
    started = time.time()
    lapsing = register(stack, "second", ttl=5)
    kept = register(stack, "second", ttl=5)
    left = register(stack, "second", ttl=30)
    # On the second pool (its own replica) within a second.
    wait_until(lambda: {lapsing["id"], kept["id"], left["id"]} <= set(listed(other, "second")),
               timeout=1, what="the registrations on the second pool")
    # Deregistered: gone from the second pool within a second.
    assert stack.request("DELETE", f"/v1/services/second/instances/{left['id']}").status == 204
    wait_until(lambda: left["id"] not in listed(other, "second"), timeout=1,
               what="the deregistration on the second pool")
    # Heartbeats keep one (through the second pool too); the other expires.
    gone_at = {}
    while time.time() < started + 8:
        via = stack if int(time.time()) % 2 else other
        beat = via.request("POST", f"/v1/services/second/instances/{kept['id']}/heartbeat")
        assert beat.status == 200, beat
        for name, node in (("first", stack), ("second", other)):
            if name not in gone_at and lapsing["id"] not in listed(node, "second"):
                gone_at[name] = time.time()
        time.sleep(0.2)
    expiry = rfc3339(lapsing["expires_at"])
    for name in ("first", "second"):
        assert name in gone_at, f"never expired on the {name} pool"
        # Within a second of its expiry, never before its ttl (less a second:
        # expires_at is whole seconds).
        assert started + 5 - 1.2 <= gone_at[name] <= expiry + 1, (name, gone_at, expiry)
    assert kept["id"] in listed(stack, "second") and kept["id"] in listed(other, "second")
    # Expired: a heartbeat is 404, on either pool.
    for node in (stack, other):
        assert_problem(node.request(
            "POST", f"/v1/services/second/instances/{lapsing['id']}/heartbeat"),
            404, "instance_not_found")
    stack.request("DELETE", f"/v1/services/second/instances/{kept['id']}")


def test_expired_instances_are_never_listed_even_before_the_delete_arrives(stack):
    inst = register(stack, "frozen", ttl=5)
    watcher = stack.pool.watcher_pid()
    assert watcher is not None
    os.kill(watcher, signal.SIGSTOP)
    try:
        # Listed before its expiry, by every responder (each keeps its answer).
        for _ in range(10):
            assert inst["id"] in listed(stack, "frozen")
            assert [i["id"] for i in stack.request("GET", "/servicos/frozen").json()] == \
                [inst["id"]]
        time.sleep(7)
        # The replica still holds it (the watcher has not seen the delete)...
        assert f"services/frozen/{inst['id']}" in replica_keys(stack, "services/frozen/")
        # ... and etcd has dropped it, but no list shows it.
        assert json.loads(stack.etcdctl("get", "--prefix", "/dynconf/services/frozen/",
                                        "-w", "json")).get("count", 0) == 0
        assert listed(stack, "frozen") == {}
        assert stack.request("GET", "/servicos/frozen").json() == []
        names = stack.request("GET", "/v1/services").json()
        assert "frozen" not in [i["name"] for i in names["items"]]
        assert_problem(stack.request(
            "POST", f"/v1/services/frozen/instances/{inst['id']}/heartbeat"), 404)
    finally:
        os.kill(watcher, signal.SIGCONT)
    wait_until(lambda: not replica_keys(stack, "services/frozen/"), timeout=2,
               what="the watcher to bring the delete")


def test_a_lease_takes_its_keys_from_every_replica(stack):
    """Instances and locks alike: once the lease lapses, the key is gone
    from the replica of each node (the files themselves, not a filtered
    list)."""
    other = stack.other
    inst = register(stack, "leased", ttl=5)
    lock = call(stack, "POST", "/v1/locks/leased", {"holder": "h", "ttl": 5})
    assert lock.status == 201, lock
    keys = {f"services/leased/{inst['id']}", "locks/leased"}
    for node in (stack, other):
        wait_until(lambda: keys <= replica_keys(node, "") , timeout=1,
                   what="both keys in the replica")
    started = time.time()
    for node in (stack, other):
        wait_until(lambda: not keys & replica_keys(node, ""), timeout=8,
                   what="the lease's keys gone from the replica")
    assert time.time() - started <= 7
    assert not keys & replica_keys(stack, "") and not keys & replica_keys(other, "")


def test_list_of_services(stack):
    made = [register(stack, "list-a"), register(stack, "list-a"), register(stack, "list-b")]
    resp = stack.request("GET", "/v1/services")
    assert resp.status == 200, resp
    doc = resp.json()
    assert set(doc) == {"items", "total", "limit", "offset"}
    counts = {i["name"]: i["instances"] for i in doc["items"]}
    assert counts["list-a"] == 2 and counts["list-b"] == 1
    names = [i["name"] for i in doc["items"]]
    assert names == sorted(names)
    page = stack.request("GET", "/v1/services?limit=1&offset=1").json()
    assert page["items"] == doc["items"][1:2] and page["total"] == doc["total"]
    assert page["limit"] == 1 and page["offset"] == 1
    assert resp.headers["x-cache"] in ("hit", "stale") and "x-dynconf-revision" in resp.headers
    assert_problem(stack.request("GET", "/v1/services?limit=0"), 400)
    for inst in made:
        stack.request("DELETE", f"/v1/services/{inst['service']}/instances/{inst['id']}")
    names = [i["name"] for i in stack.request("GET", "/v1/services").json()["items"]]
    assert "list-a" not in names and "list-b" not in names


def test_watch_sees_instances_come_and_go(stack):
    start = stack.request("GET", "/v1/watch?prefix=services/watched/").json()["revision"]
    inst = register(stack, "watched", ttl=5)
    beat = stack.request("POST", f"/v1/services/watched/instances/{inst['id']}/heartbeat")
    assert beat.status == 200
    # The heartbeat's write may reach this node's replica a moment after
    # the registration's: watch on until both came (or 5 s passed).
    events, since, deadline = [], start, time.monotonic() + 5
    while len(events) < 2 and time.monotonic() < deadline:
        query = urllib.parse.urlencode({"prefix": "services/watched/", "since": since,
                                        "timeout": 1}, safe="/")
        answer = stack.request("GET", f"/v1/watch?{query}", timeout=75).json()
        events += answer["events"]
        since = answer["revision"]
    assert [e["type"] for e in events] == ["put", "put"], events
    assert events[0]["resource"] == "services" and events[0]["key"] == f"watched/{inst['id']}"
    assert events[0]["value"]["endpoint"] == inst["endpoint"]
    # Expiry is a delete event, which a waiting watch hears of.
    since = events[-1]["revision"]
    query = urllib.parse.urlencode({"prefix": "services/watched/", "since": since,
                                    "timeout": 10}, safe="/")
    events = stack.request("GET", f"/v1/watch?{query}", timeout=75).json()["events"]
    assert [(e["type"], e["key"]) for e in events] == [("delete", f"watched/{inst['id']}")]


def test_seed_forms(stack):
    resp = call(stack, "POST", "/servicos/registrar",
                {"nome": "seeded", "endpoint": "http://10.1.1.1:5000"})
    assert resp.status == 200, resp
    doc = resp.json()
    assert doc["mensagem"] == "Serviço registrado"
    assert doc["chave"] == f"/dynconf/services/seeded/{doc['id']}"
    assert abs(rfc3339(doc["expires_at"]) - time.time() - 30) <= 2   # 30 s by default
    short = call(stack, "POST", "/servicos/registrar",
                 {"nome": "seeded", "endpoint": "10.1.1.2:5000", "ttl": 5}).json()
    assert abs(rfc3339(short["expires_at"]) - time.time() - 5) <= 2
    got = stack.request("GET", "/servicos/seeded")
    assert got.status == 200, got
    items = {i["id"]: i for i in got.json()}
    assert [set(i) for i in items.values()] == [{"id", "endpoint", "status",
                                                 "timestamp", "expires_at"}] * 2
    mine = items[doc["id"]]
    assert mine["endpoint"] == "http://10.1.1.1:5000" and mine["status"] == "active"
    assert mine["expires_at"] == doc["expires_at"]
    assert abs(rfc3339(mine["timestamp"]) - time.time()) <= 2
    # The same instances through the v1 API, and stored under the key named.
    assert set(listed(stack, "seeded")) == {doc["id"], short["id"]}
    kv = json.loads(stack.etcdctl("get", doc["chave"], "-w", "json"))["kvs"][0]
    assert int(kv["lease"]) == int(doc["id"], 16)
    assert json.loads(base64.b64decode(kv["value"]))["endpoint"] == "http://10.1.1.1:5000"
    assert stack.request("GET", "/servicos/nobody").json() == []
    for bad in ({"endpoint": "h:1"}, {"nome": "x"}, {"nome": "-x", "endpoint": "h:1"},
                {"nome": "x", "endpoint": "nope"}, {"nome": "x", "endpoint": "h:1", "ttl": 1},
                {"nome": "x", "endpoint": "h:1", "metadata": {}}):
        assert_problem(call(stack, "POST", "/servicos/registrar", bad), 400)
    for inst in (doc, short):
        stack.request("DELETE", f"/v1/services/seeded/instances/{inst['id']}")


def test_etcd_down_writes_503_lists_from_the_replica():
    # No audit records kept: their lease would be among the leases counted.
    with harness.Stack(processes=2, overrides={"audit.retention": 0}) as stack:
        inst = register(stack, "down", ttl=30)
        ports = stack.etcd.client_port, stack.etcd.peer_port
        stack.etcd.stop()
        stack.etcd = None
        wait_until(lambda: stack.request("GET", "/v1/health").json()["etcd"] == "down",
                   timeout=5, what="etcd down")
        for method, path, doc in (
                ("POST", "/v1/services/down/instances", {"endpoint": "h:1"}),
                ("POST", f"/v1/services/down/instances/{inst['id']}/heartbeat", None),
                ("DELETE", f"/v1/services/down/instances/{inst['id']}", None),
                ("POST", "/servicos/registrar", {"nome": "down", "endpoint": "h:1"})):
            resp = call(stack, method, path, doc)
            assert_problem(resp, 503, "store_unavailable")
            assert resp.headers["retry-after"]
        resp = stack.request("GET", "/v1/services/down")
        assert resp.status == 200 and resp.headers["x-cache"] == "stale", resp
        assert list(listed(stack, "down")) == [inst["id"]]
        stack.etcd = harness.Etcd(stack.workdir, *ports)
        wait_until(lambda: stack.request("POST", f"/v1/services/down/instances/"
                                         f"{inst['id']}/heartbeat").status == 200,
                   timeout=10, what="etcd back")
        # Nothing was registered meanwhile.
        assert list(listed(stack, "down")) == [inst["id"]]
        assert stack.etcdctl("lease", "list").count("\n") == 2, stack.etcdctl("lease", "list")
