"""Segments (API.md section 5) and what the SDK APIs (sections 11, 12) keep
beyond what their clients show: against real etcd through nginx, with two
nodes (pools with replicas of their own) on one etcd.

The real clients (Flagsmith's SDK, OpenFeature's OFREP provider) are tested
in tests/clients.
"""

import json
import threading

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}


class Nodes:
    """Two pools on one etcd, each behind its own nginx."""

    def __init__(self, first, second):
        self.a, self.b = first, second


def module_fixture():
    with harness.Stack(processes=2) as first:
        second = harness.Stack(processes=3, etcd=False,
                               overrides={"etcd.endpoints": first.etcd.url})
        with second:
            wait_until(lambda: second.request("GET", "/v1/ready").status == 200,
                       what="the second node's replica")
            yield Nodes(first, second)


def send(stack, method, path, doc=None, headers=None):
    body = None if doc is None else json.dumps(doc).encode()
    return stack.request(method, path, body=body, headers={**JSON, **(headers or {})})


def evaluate(stack, key, context, env="default"):
    resp = send(stack, "POST", f"/v1/flags/{key}/evaluate?env={env}", {"context": context})
    assert resp.status == 200, resp
    return resp.json()


# -- the segment resource

def test_segment_crud(nodes):
    a = nodes.a
    made = send(a, "PUT", "/v1/segments/crud", {"description": "d", "criteria": {"x": 1}})
    assert made.status == 201, made
    assert made.json()["criteria"] == {"x": 1} and made.json()["revision"] > 0, made.json()
    assert made.headers["etag"] == f'"{made.json()["revision"]}"'
    again = send(a, "PUT", "/v1/segments/crud", {"criteria": {"x": 2}})
    assert again.status == 200 and again.json()["created_at"] == made.json()["created_at"]
    got = a.request("GET", "/v1/segments/crud")
    assert got.status == 200 and got.json()["criteria"] == {"x": 2}, got
    names = [s["name"] for s in a.request("GET", "/v1/segments").json()["items"]]
    assert "crud" in names, names
    stored = json.loads(a.etcdctl("get", "--print-value-only", "/dynconf/segments/crud"))
    assert stored["criteria"] == {"x": 2}, stored
    assert a.request("DELETE", "/v1/segments/crud").status == 204
    assert_problem(a.request("GET", "/v1/segments/crud"), 404, "segment_not_found")
    assert_problem(a.request("DELETE", "/v1/segments/crud"), 404, "segment_not_found")


def test_segment_documents_are_checked(nodes):
    a = nodes.a
    assert_problem(send(a, "PUT", "/v1/segments/bad", {"criteria": {"x": 1}, "colour": 1}),
                   400, "unknown_field")
    assert_problem(send(a, "PUT", "/v1/segments/bad", {"description": "no criteria"}), 400)
    assert_problem(send(a, "PUT", "/v1/segments/bad", {"criteria": {"x": {"gt": "abc"}}}),
                   400)
    assert_problem(send(a, "PUT", "/v1/segments/bad", {"name": "other", "criteria": {}}), 400)
    assert_problem(send(a, "PUT", "/v1/segments/..", {"criteria": {}}), 400, "invalid_key")
    assert a.request("GET", "/v1/segments/bad").status == 404


def test_flag_naming_a_missing_segment_is_400_and_not_stored(nodes):
    a = nodes.a
    resp = send(a, "PUT", "/v1/flags/orphan", {"value": 1, "rules": [
        {"segments": ["nowhere"], "value": 2}]})
    doc = assert_problem(resp, 400, "unknown_segment")
    assert "nowhere" in doc["detail"], doc
    assert a.request("GET", "/v1/flags/orphan").status == 404
    assert a.etcdctl("get", "/dynconf/flags/default/orphan") == ""


def test_segment_in_use_cannot_be_deleted(nodes):
    a = nodes.a
    assert send(a, "POST", "/v1/environments", {"name": "seg-env"}).status == 201
    assert send(a, "PUT", "/v1/segments/used", {"criteria": {"beta": True}}).status == 201
    for key, env in (("user-a", "default"), ("user-b", "seg-env")):
        resp = send(a, "PUT", f"/v1/flags/{key}?env={env}", {"value": 0, "rules": [
            {"segments": ["used"], "value": 1}]})
        assert resp.status == 201, resp
    doc = assert_problem(a.request("DELETE", "/v1/segments/used"), 409, "segment_in_use")
    assert sorted(doc["flags"]) == ["default/user-a", "seg-env/user-b"], doc
    assert "default/user-a" in doc["detail"], doc
    assert a.request("GET", "/v1/segments/used").status == 200
    a.request("DELETE", "/v1/flags/user-a")
    a.request("DELETE", "/v1/environments/seg-env?cascade=true")
    assert a.request("DELETE", "/v1/segments/used").status == 204


def test_a_segment_change_reaches_every_responder_of_every_node_at_once(nodes):
    a, b = nodes.a, nodes.b
    assert send(a, "PUT", "/v1/segments/eu", {"criteria": {"country": {"in": ["PT", "FR"]}}}
                ).status == 201
    assert send(a, "PUT", "/v1/flags/eu-banner", {"value": "world", "rules": [
        {"segments": ["eu"], "value": "europe"}]}).status == 201
    context = {"targetingKey": "u", "country": "DE"}
    # Every responder of both nodes parses and caches the flag first.
    wait_until(lambda: evaluate(b, "eu-banner", context)["value"] == "world",
               timeout=5, what="the flag on the second node")
    for _ in range(12):
        for node in (a, b):
            assert evaluate(node, "eu-banner", context)["value"] == "world"
    assert send(a, "PUT", "/v1/segments/eu",
                {"criteria": {"country": {"in": ["PT", "FR", "DE"]}}}).status == 200
    # The writing node serves it at once; the other as soon as its watch has it.
    assert evaluate(a, "eu-banner", context)["value"] == "europe"
    wait_until(lambda: evaluate(b, "eu-banner", context)["value"] == "europe",
               timeout=2, what="the segment change on the second node")
    for _ in range(12):
        for node in (a, b):
            result = evaluate(node, "eu-banner", context)
            assert result["value"] == "europe" and result["reason"] == "TARGETING_MATCH", result


def test_deleting_a_segment_races_no_flag_into_naming_it(nodes):
    a = nodes.a
    for i in range(8):
        name = f"race-{i}"
        assert send(a, "PUT", f"/v1/segments/{name}", {"criteria": {"n": i}}).status == 201
        results = {}

        def write():
            results["flag"] = send(a, "PUT", f"/v1/flags/{name}", {"value": 0, "rules": [
                {"segments": [name], "value": 1}]}).status

        def delete():
            results["segment"] = a.request("DELETE", f"/v1/segments/{name}").status

        threads = [threading.Thread(target=write), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flag = a.etcdctl("get", "--print-value-only", f"/dynconf/flags/default/{name}")
        segment = a.etcdctl("get", "--print-value-only", f"/dynconf/segments/{name}")
        assert not (flag and not segment), (i, results, flag, segment)
        assert results["flag"] in (201, 400) and results["segment"] in (204, 409), results
        a.request("DELETE", f"/v1/flags/{name}")


# -- what the Flagsmith API stores

def sdk_key(stack, env):
    stack.request("DELETE", f"/v1/environments/{env}?cascade=true")
    made = send(stack, "POST", "/v1/environments", {"name": env})
    assert made.status == 201, made
    return made.json()["sdk_key"]


def identify(stack, key, identifier, traits, transient=None):
    doc = {"identifier": identifier,
           "traits": [dict(trait_key=k, trait_value=v) for k, v in traits.items()]}
    if transient is not None:
        doc["transient"] = transient
    resp = send(stack, "POST", "/api/v1/identities/", doc, {"X-Environment-Key": key})
    assert resp.status == 200, resp
    return resp.json()


def test_identity_traits_are_stored_under_the_identity(nodes):
    a = nodes.a
    key = sdk_key(a, "fs-store")
    identify(a, key, "ana@example.com", {"plan": "pro", "age": 31, "beta": True})
    stored = json.loads(a.etcdctl("get", "--print-value-only",
                                  "/dynconf/identities/fs-store/ana@example.com"))
    assert stored == {"identifier": "ana@example.com",
                      "traits": {"plan": "pro", "age": 31, "beta": True}}, stored
    rev = a.etcdctl("get", "-w", "json", "/dynconf/identities/fs-store/ana@example.com")
    # The same traits again write nothing.
    identify(a, key, "ana@example.com", {"plan": "pro"})
    assert a.etcdctl("get", "-w", "json",
                     "/dynconf/identities/fs-store/ana@example.com") == rev
    identify(a, key, "ben", {"plan": "pro"}, transient=True)
    assert a.etcdctl("get", "/dynconf/identities/fs-store/ben") == ""
    bad = send(a, "POST", "/api/v1/identities/", {"identifier": "a/b", "traits": []},
               {"X-Environment-Key": key})
    assert bad.status == 400, bad
    bad = send(a, "POST", "/api/v1/identities/",
               {"identifier": "c", "traits": [{"trait_key": "k", "trait_value": [1]}]},
               {"X-Environment-Key": key})
    assert bad.status == 400, bad


def test_deleting_an_environment_deletes_its_identities(nodes):
    a = nodes.a
    key = sdk_key(a, "fs-gone")
    identify(a, key, "carla", {"plan": "pro"})
    assert a.etcdctl("get", "--keys-only", "/dynconf/identities/fs-gone/carla").strip()
    # No flags in it: deleted without ?cascade, its identities with it.
    assert a.request("DELETE", "/v1/environments/fs-gone").status == 204
    assert a.etcdctl("get", "--prefix", "/dynconf/identities/fs-gone/") == ""
    key = sdk_key(a, "fs-gone")
    assert identify(a, key, "carla", {})["traits"] == []


def test_concurrent_trait_writes_to_one_identity_all_land(nodes):
    a, b = nodes.a, nodes.b
    key = sdk_key(a, "fs-merge")
    wait_until(lambda: b.request("GET", "/v1/environments/fs-merge").status == 200,
               timeout=5, what="the environment on the second node")

    def worker(node, n):
        for i in range(5):
            identify(node, key, "shared", {f"t{n}-{i}": i})

    threads = [threading.Thread(target=worker, args=(node, n))
               for n, node in enumerate((a, b, a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = json.loads(a.etcdctl("get", "--print-value-only",
                                  "/dynconf/identities/fs-merge/shared"))
    assert len(stored["traits"]) == 20, stored


def test_sdk_key_of_one_environment_reads_only_it(nodes):
    a = nodes.a
    one, two = sdk_key(a, "fs-one"), sdk_key(a, "fs-two")
    assert send(a, "PUT", "/v1/flags/only-one?env=fs-one", {"value": 1}).status == 201
    names = lambda k: [f["feature"]["name"] for f in a.request(  # noqa: E731
        "GET", "/api/v1/flags/", headers={"X-Environment-Key": k}).json()]
    assert names(one) == ["only-one"] and names(two) == []


# -- what OFREP answers beyond the provider's view

def test_ofrep_500_keeps_the_key_and_a_general_error_code(nodes):
    a = nodes.a
    a.etcdctl("put", "/dynconf/flags/default/broken", "{not json")
    # Once the watch has brought it into the replica.
    resp = wait_until(lambda: (lambda r: r if r.status != 404 else None)(
        send(a, "POST", "/ofrep/v1/evaluate/flags/broken", {"context": {}})),
        timeout=5, what="the corrupt flag in the replica")
    assert resp.status == 500, resp
    assert resp.json() == {"key": "broken", "errorCode": "GENERAL",
                           "errorDetails": resp.json()["errorDetails"]}, resp.json()
    assert resp.headers["content-type"].startswith("application/json")
    a.etcdctl("del", "/dynconf/flags/default/broken")
