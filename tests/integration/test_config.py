"""Dynamic configuration through the store (API.md sections 1 and 6, 13):
create/replace/read/delete, preconditions, the etcd value being the JSON text
of the value, keys, lists, forced reads and read-your-own-write.

One stack (real etcd, the pool, nginx) serves the whole module.
"""

import json
import time

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}


def module_fixture():
    with harness.Stack(processes=2) as stack:
        yield stack


def put(stack, key, value, headers=None):
    body = json.dumps({"value": value}).encode()
    return stack.request("PUT", f"/v1/config/{key}", body=body,
                         headers={**JSON, **(headers or {})})


def get(stack, key, query=""):
    return stack.request("GET", f"/v1/config/{key}{query}")


def test_put_creates_then_replaces(stack):
    first = put(stack, "app/create", {"a": 1})
    assert first.status == 201, first
    doc = first.json()
    assert doc["key"] == "app/create" and doc["value"] == {"a": 1}, doc
    assert isinstance(doc["revision"], int) and doc["revision"] > 0, doc
    assert doc["updated_at"].endswith("Z") and "T" in doc["updated_at"], doc
    assert first.headers["etag"] == f'"{doc["revision"]}"', first.headers
    second = put(stack, "app/create", [1, 2, 3])
    assert second.status == 200, second
    assert second.json()["revision"] > doc["revision"], second
    assert second.json()["value"] == [1, 2, 3], second


def test_get_reads_from_the_replica(stack):
    written = put(stack, "app/read", "hello").json()
    resp = get(stack, "app/read")
    assert resp.status == 200, resp
    assert resp.json() == written, (resp.json(), written)
    assert resp.headers["x-cache"] == "hit", resp.headers
    assert int(resp.headers["x-dynconf-revision"]) >= 0, resp.headers
    assert resp.headers["etag"] == f'"{written["revision"]}"', resp.headers


def test_etcd_holds_the_json_text_of_the_value(stack):
    put(stack, "app/text", {"n": 1, "s": "x"})
    raw = stack.etcdctl("get", "--print-value-only", "/dynconf/config/app/text").strip()
    assert json.loads(raw) == {"n": 1, "s": "x"}, raw


def test_etcdctl_writes_are_served_within_a_second(stack):
    cases = [("100", 100), ('"str"', "str"), ("plain words", "plain words"),
             ('{"a":[1,2]}', {"a": [1, 2]}), ("true", True), ("1.5", 1.5),
             ("100abc", "100abc")]
    for i, (text, expected) in enumerate(cases):
        key = f"direct/k{i}"
        stack.etcdctl("put", f"/dynconf/config/{key}", text)
        started = time.monotonic()
        resp = wait_until(lambda: (lambda r: r if r.status == 200 else None)(get(stack, key)),
                          timeout=1.0, what=f"{key} to appear")
        assert resp.json()["value"] == expected, (text, resp.json())
        assert resp.json()["key"] == key, resp.json()
        assert time.monotonic() - started < 1.0


def test_etcdctl_delete_is_served_within_a_second(stack):
    assert put(stack, "direct/gone", 1).status in (200, 201)
    stack.etcdctl("del", "/dynconf/config/direct/gone")
    wait_until(lambda: get(stack, "direct/gone").status == 404, timeout=1.0,
               what="the delete to reach the replica")


def test_missing_key_is_404(stack):
    assert_problem(get(stack, "no/such/key"), 404, "config_not_found")


def test_if_match_guards_writes(stack):
    rev = put(stack, "cas/x", 1).json()["revision"]
    stale = put(stack, "cas/x", 2, {"If-Match": f'"{rev - 1}"'})
    assert_problem(stale, 412, "revision_mismatch")
    assert get(stack, "cas/x").json()["value"] == 1
    fresh = put(stack, "cas/x", 3, {"If-Match": f'"{rev}"'})
    assert fresh.status == 200 and fresh.json()["value"] == 3, fresh
    assert_problem(put(stack, "cas/absent", 1, {"If-Match": '"5"'}), 404, "config_not_found")
    assert_problem(put(stack, "cas/x", 1, {"If-Match": "garbage"}), 400, "invalid_precondition")


def test_if_none_match_star_creates_only(stack):
    assert put(stack, "cas/new", 1, {"If-None-Match": "*"}).status == 201
    again = put(stack, "cas/new", 2, {"If-None-Match": "*"})
    assert_problem(again, 412, "already_exists")
    assert get(stack, "cas/new").json()["value"] == 1


def test_delete_honours_if_match(stack):
    rev = put(stack, "del/x", 1).json()["revision"]
    stale = stack.request("DELETE", "/v1/config/del/x", headers={"If-Match": f'"{rev + 100}"'})
    assert_problem(stale, 412, "revision_mismatch")
    assert get(stack, "del/x").status == 200
    ok = stack.request("DELETE", "/v1/config/del/x", headers={"If-Match": f'"{rev}"'})
    assert ok.status == 204 and ok.body == b"", ok
    assert get(stack, "del/x").status == 404
    assert stack.etcdctl("get", "/dynconf/config/del/x").strip() == ""
    assert_problem(stack.request("DELETE", "/v1/config/del/x"), 404, "config_not_found")


def test_force_reads_from_etcd(stack):
    put(stack, "force/x", 1)
    resp = get(stack, "force/x", "?force=true")
    assert resp.status == 200 and resp.headers["x-cache"] == "bypass", resp
    assert resp.json()["value"] == 1
    assert_problem(get(stack, "force/x", "?force=maybe"), 400, "invalid_query")
    missing = get(stack, "force/none", "?force=true")
    assert_problem(missing, 404, "config_not_found")
    assert missing.headers["x-cache"] == "bypass", missing.headers


def test_read_your_own_write_on_the_same_node(stack):
    for i in range(30):
        written = put(stack, "ryw/x", i).json()
        read = get(stack, "ryw/x").json()
        assert read["revision"] >= written["revision"], (i, written, read)
        assert read["value"] == i or read["revision"] > written["revision"], (i, read)


def test_list_by_prefix_with_paging(stack):
    for name in ("a", "b", "c", "d"):
        put(stack, f"list/app/{name}", name)
    put(stack, "list/apple", "not under app/")
    resp = stack.request("GET", "/v1/config?prefix=list/app/&limit=2&offset=1")
    assert resp.status == 200, resp
    doc = resp.json()
    assert doc["total"] == 4 and doc["limit"] == 2 and doc["offset"] == 1, doc
    assert [item["key"] for item in doc["items"]] == ["list/app/b", "list/app/c"], doc
    assert resp.headers["x-cache"] == "hit", resp.headers
    everything = stack.request("GET", "/v1/config?prefix=list/").json()
    assert everything["total"] == 5, everything
    assert_problem(stack.request("GET", "/v1/config?limit=0"), 400, "invalid_query")
    assert_problem(stack.request("GET", "/v1/config?limit=1001"), 400, "invalid_query")
    assert_problem(stack.request("GET", "/v1/config?offset=-1"), 400, "invalid_query")
    assert_problem(stack.request("GET", "/v1/config?prefix=../x"), 400, "invalid_key")


def test_bad_keys_are_refused_and_write_nothing(stack):
    before = stack.etcdctl("get", "--prefix", "--keys-only", "/dynconf/").split()
    bad = ["a/../b", "a/./b", "a//b", "/".join(["s"] * 17), "k" * 129,
           "/".join(["x" * 100] * 6), "sp%20ace", "-dash", "semi;colon", "%2e%2e/up"]
    for key in bad:
        resp = put(stack, key, 1)
        assert_problem(resp, 400, "invalid_key")
        assert_problem(get(stack, key), 400, "invalid_key")
    after = stack.etcdctl("get", "--prefix", "--keys-only", "/dynconf/").split()
    assert before == after, set(after) - set(before)


def test_body_is_validated_field_by_field(stack):
    resp = stack.request("PUT", "/v1/config/body/x", body=b'{"value":1,"valeu":2}', headers=JSON)
    doc = assert_problem(resp, 400, "unknown_field")
    assert doc["errors"][0]["field"] == "valeu", doc
    assert_problem(stack.request("PUT", "/v1/config/body/x", body=b'{"other":1}',
                                 headers=JSON), 400, "unknown_field")
    assert_problem(stack.request("PUT", "/v1/config/body/x", body=b'{}', headers=JSON),
                   400, "validation_failed")
    assert_problem(stack.request("PUT", "/v1/config/body/x", body=b'[1]', headers=JSON),
                   400, "validation_failed")
    assert_problem(stack.request("PUT", "/v1/config/body/x", body=b'', headers=JSON),
                   400, "validation_failed")
    assert get(stack, "body/x").status == 404
    null = stack.request("PUT", "/v1/config/body/null", body=b'{"value":null}', headers=JSON)
    assert null.status == 201 and null.json()["value"] is None, null


def test_ready_and_health_report_the_replica(stack):
    ready = stack.request("GET", "/v1/ready")
    assert ready.status == 200 and ready.json()["ready"] is True, ready
    health = stack.request("GET", "/v1/health").json()
    assert health["etcd"] == "up", health
    assert health["replica_revision"] > 0, health
    assert 0 <= health["replica_lag_ms"] < 1000, health


def test_metrics_count_cache_results(stack):
    put(stack, "metrics/x", 1)
    get(stack, "metrics/x")
    get(stack, "metrics/x", "?force=true")
    text = stack.request("GET", "/v1/metrics").body.decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("dynconf_cache_reads_total{"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(value)
    assert values['dynconf_cache_reads_total{result="hit"}'] >= 1, values
    assert values['dynconf_cache_reads_total{result="bypass"}'] >= 1, values
    for metric in ("dynconf_etcd_calls_total", "dynconf_circuit_breaker_state",
                   "dynconf_replica_revision", "dynconf_replica_lag_seconds"):
        assert f"\n{metric} " in text, metric
