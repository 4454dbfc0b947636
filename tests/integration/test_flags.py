"""Environments, feature flags, evaluation and the seed's /feature API
(API.md sections 4 and 5), against real etcd through nginx.
"""

import json

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}

EXAMPLE = {
    "key": "new-checkout", "description": "", "enabled": True,
    "criteria": {"region": "US", "user_tier": ["premium", "gold"]},
    "value": True, "default": False,
    "variants": [{"name": "on", "value": True, "weight": 20},
                 {"name": "off", "value": False, "weight": 80}],
    "rules": [{"criteria": {"age": {"gte": 18}}, "value": "adult"}],
}


def module_fixture():
    with harness.Stack(processes=2) as stack:
        yield stack


def send(stack, method, path, doc=None, headers=None):
    body = None if doc is None else json.dumps(doc).encode()
    return stack.request(method, path, body=body, headers={**JSON, **(headers or {})})


def put_flag(stack, key, doc, env=None, headers=None):
    query = f"?env={env}" if env else ""
    return send(stack, "PUT", f"/v1/flags/{key}{query}", doc, headers)


# -- environments

def test_default_environment_always_exists(stack):
    resp = stack.request("GET", "/v1/environments/default")
    assert resp.status == 200, resp
    assert resp.json()["name"] == "default" and "sdk_key" not in resp.json(), resp.json()
    names = [e["name"] for e in stack.request("GET", "/v1/environments").json()["items"]]
    assert "default" in names, names
    assert_problem(stack.request("DELETE", "/v1/environments/default"), 409,
                   "default_environment")


def test_create_environment_shows_its_sdk_key_once(stack):
    resp = send(stack, "POST", "/v1/environments", {"name": "staging"})
    assert resp.status == 201, resp
    doc = resp.json()
    assert doc["name"] == "staging" and doc["revision"] > 0, doc
    assert len(doc["sdk_key"]) >= 43, doc
    stored = stack.etcdctl("get", "--print-value-only", "/dynconf/environments/staging")
    assert doc["sdk_key"] not in stored, "the SDK key is stored in clear"
    assert "sdk_key" not in stack.request("GET", "/v1/environments/staging").json()
    again = send(stack, "POST", "/v1/environments", {"name": "staging"})
    assert_problem(again, 409, "environment_exists")
    assert_problem(send(stack, "POST", "/v1/environments", {"name": "../x"}), 400,
                   "invalid_key")
    assert_problem(send(stack, "POST", "/v1/environments", {"name": "ok", "x": 1}), 400,
                   "unknown_field")


def test_rotate_key_replaces_the_index(stack):
    first = send(stack, "POST", "/v1/environments", {"name": "rotating"}).json()
    rotated = send(stack, "POST", "/v1/environments/rotating/rotate-key")
    assert rotated.status == 200, rotated
    new_key = rotated.json()["sdk_key"]
    assert new_key != first["sdk_key"], rotated.json()
    index = stack.etcdctl("get", "--prefix", "/dynconf/index/sdk_keys/").split("\n")
    pointing = [index[i] for i in range(0, len(index) - 1, 2) if index[i + 1] == "rotating"]
    assert len(pointing) == 1, index
    assert_problem(send(stack, "POST", "/v1/environments/none/rotate-key"), 404,
                   "environment_not_found")


def test_environments_are_isolated(stack):
    send(stack, "POST", "/v1/environments", {"name": "iso-a"})
    send(stack, "POST", "/v1/environments", {"name": "iso-b"})
    assert put_flag(stack, "shared", {"value": "A"}, env="iso-a").status == 201
    assert put_flag(stack, "shared", {"value": "B"}, env="iso-b").status == 201
    assert stack.request("GET", "/v1/flags/shared?env=iso-a").json()["value"] == "A"
    assert stack.request("GET", "/v1/flags/shared?env=iso-b").json()["value"] == "B"
    assert_problem(stack.request("GET", "/v1/flags/shared"), 404, "flag_not_found")
    assert_problem(put_flag(stack, "x", {"value": 1}, env="no-such-env"), 404,
                   "environment_not_found")


def test_delete_environment_needs_cascade_while_it_holds_flags(stack):
    send(stack, "POST", "/v1/environments", {"name": "doomed"})
    put_flag(stack, "f1", {"value": 1}, env="doomed")
    assert_problem(stack.request("DELETE", "/v1/environments/doomed"), 409,
                   "environment_not_empty")
    assert stack.request("GET", "/v1/flags/f1?env=doomed").status == 200
    resp = stack.request("DELETE", "/v1/environments/doomed?cascade=true")
    assert resp.status == 204, resp
    assert stack.etcdctl("get", "--prefix", "--keys-only", "/dynconf/flags/doomed/").strip() == ""
    assert_problem(stack.request("GET", "/v1/environments/doomed"), 404,
                   "environment_not_found")
    send(stack, "POST", "/v1/environments", {"name": "empty-one"})
    assert stack.request("DELETE", "/v1/environments/empty-one").status == 204


# -- flags

def test_put_creates_then_replaces_and_keeps_created_at(stack):
    first = put_flag(stack, "new-checkout", EXAMPLE)
    assert first.status == 201, first
    doc = first.json()
    for field in ("key", "enabled", "criteria", "value", "default", "variants", "rules",
                  "revision", "created_at", "updated_at"):
        assert field in doc, (field, doc)
    assert first.headers["etag"] == f'"{doc["revision"]}"'
    again = put_flag(stack, "new-checkout", {**EXAMPLE, "description": "changed"})
    assert again.status == 200, again
    assert again.json()["created_at"] == doc["created_at"], again.json()
    assert again.json()["revision"] > doc["revision"]
    read = stack.request("GET", "/v1/flags/new-checkout")
    assert read.status == 200 and read.json()["description"] == "changed", read
    assert read.headers["x-cache"] == "hit", read.headers
    forced = stack.request("GET", "/v1/flags/new-checkout?force=true")
    assert forced.headers["x-cache"] == "bypass", forced.headers


def test_flag_document_is_validated(stack):
    cases = [
        ({"value": 1, "enabeld": True}, "unknown_field", "enabeld"),
        ({"enabled": True}, "validation_failed", None),
        ({"value": 1, "variants": [{"name": "a", "value": 1, "weight": -1}]},
         "validation_failed", None),
        ({"variants": [{"name": "a", "value": 1, "weight": 0}]}, "validation_failed", None),
        ({"value": 1, "criteria": {"email": {"regex": "("}}}, "validation_failed", None),
        ({"value": 1, "criteria": {"age": {"bigger": 3}}}, "validation_failed", None),
        ({"value": 1, "key": "other-key"}, "validation_failed", None),
    ]
    for doc, code, field in cases:
        resp = put_flag(stack, "validated", doc)
        problem = assert_problem(resp, 400, code)
        assert problem.get("errors"), (doc, problem)
        if field:
            assert any(e["field"].endswith(field) for e in problem["errors"]), problem
    assert_problem(stack.request("GET", "/v1/flags/validated"), 404, "flag_not_found")
    assert_problem(put_flag(stack, "bad%20key", {"value": 1}), 400, "invalid_key")


def test_post_update_needs_a_current_revision(stack):
    rev = put_flag(stack, "upd", {"value": 1}).json()["revision"]
    assert_problem(send(stack, "POST", "/v1/flags/upd", {"value": 2}), 428,
                   "revision_required")
    stale = send(stack, "POST", "/v1/flags/upd", {"value": 2, "revision": rev - 1})
    assert_problem(stale, 409, "revision_mismatch")
    stale_header = send(stack, "POST", "/v1/flags/upd", {"value": 2},
                        headers={"If-Match": f'"{rev - 1}"'})
    assert_problem(stale_header, 412, "revision_mismatch")
    ok = send(stack, "POST", "/v1/flags/upd", {"value": 3, "revision": rev})
    assert ok.status == 200 and ok.json()["value"] == 3, ok
    assert_problem(send(stack, "POST", "/v1/flags/nope", {"value": 1, "revision": 5}), 404,
                   "flag_not_found")


def test_put_preconditions_and_delete(stack):
    assert put_flag(stack, "pre", {"value": 1}, headers={"If-None-Match": "*"}).status == 201
    assert_problem(put_flag(stack, "pre", {"value": 1}, headers={"If-None-Match": "*"}),
                   412, "already_exists")
    rev = stack.request("GET", "/v1/flags/pre").json()["revision"]
    assert_problem(stack.request("DELETE", "/v1/flags/pre", headers={"If-Match": f'"{rev + 9}"'}),
                   412, "revision_mismatch")
    assert stack.request("DELETE", "/v1/flags/pre").status == 204
    assert_problem(stack.request("DELETE", "/v1/flags/pre"), 404, "flag_not_found")


def test_list_filters_orders_and_pages(stack):
    send(stack, "POST", "/v1/environments", {"name": "listing"})
    for key, enabled in (("b-flag", True), ("a-flag", False), ("c-flag", True), ("zz", True)):
        put_flag(stack, key, {"value": 1, "enabled": enabled}, env="listing")
    base = "/v1/flags?env=listing"
    keys = [f["key"] for f in stack.request("GET", base).json()["items"]]
    assert keys == ["a-flag", "b-flag", "c-flag", "zz"], keys
    desc = stack.request("GET", base + "&ordering=-key").json()["items"]
    assert [f["key"] for f in desc] == ["zz", "c-flag", "b-flag", "a-flag"], desc
    enabled = stack.request("GET", base + "&enabled=false").json()
    assert [f["key"] for f in enabled["items"]] == ["a-flag"] and enabled["total"] == 1
    page = stack.request("GET", base + "&limit=2&offset=1").json()
    assert [f["key"] for f in page["items"]] == ["b-flag", "c-flag"] and page["total"] == 4
    prefixed = stack.request("GET", base + "&prefix=c").json()
    assert [f["key"] for f in prefixed["items"]] == ["c-flag"], prefixed
    by_update = stack.request("GET", base + "&ordering=-updated_at,key")
    assert by_update.status == 200, by_update
    assert_problem(stack.request("GET", base + "&ordering=colour"), 400, "invalid_ordering")
    assert_problem(stack.request("GET", base + "&enabled=maybe"), 400, "invalid_query")


def test_a_flag_written_with_etcdctl_is_served(stack):
    doc = json.dumps({"key": "from-etcd", "value": "etcd", "enabled": True})
    stack.etcdctl("put", "/dynconf/flags/default/from-etcd", doc)
    resp = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
        stack.request("GET", "/v1/flags/from-etcd")), timeout=1, what="the flag")
    assert resp.json()["value"] == "etcd"


# -- evaluation

def evaluate(stack, key, context, env=None):
    query = f"?env={env}" if env else ""
    return send(stack, "POST", f"/v1/flags/{key}/evaluate{query}", {"context": context})


def test_evaluation_reasons(stack):
    assert put_flag(stack, "ev", {**EXAMPLE, "key": "ev"}).status in (200, 201)
    adult = evaluate(stack, "ev", {"targetingKey": "u1", "age": 30}).json()
    assert adult["value"] == "adult" and adult["reason"] == "TARGETING_MATCH", adult
    assert adult["key"] == "ev" and adult["revision"] > 0, adult
    split = evaluate(stack, "ev", {"targetingKey": "u1", "region": "US",
                                   "user_tier": "gold"}).json()
    assert split["reason"] == "SPLIT" and split["variant"] in ("on", "off"), split
    again = evaluate(stack, "ev", {"targetingKey": "u1", "region": "US",
                                   "user_tier": "gold"}).json()
    assert again["variant"] == split["variant"], (split, again)
    other = evaluate(stack, "ev", {"targetingKey": "u1", "region": "EU"}).json()
    assert other["value"] is False and other["reason"] == "DEFAULT", other
    put_flag(stack, "off", {"value": 1, "default": 0, "enabled": False})
    assert evaluate(stack, "off", {}).json()["reason"] == "DISABLED"
    put_flag(stack, "static", {"criteria": None, "value": "on"})
    static = evaluate(stack, "static", {}).json()
    assert static["reason"] == "STATIC" and static["value"] == "on", static
    put_flag(stack, "nodefault", {"criteria": {"x": 1}, "value": 1})
    none = evaluate(stack, "nodefault", {"x": 2}).json()
    assert "value" not in none and none["reason"] == "DEFAULT", none


def test_get_evaluate_takes_attributes_from_the_query(stack):
    put_flag(stack, "by-query", {"criteria": {"plan": "pro"}, "value": "yes", "default": "no"})
    yes = stack.request("GET", "/v1/flags/by-query/evaluate?plan=pro&targetingKey=u9")
    assert yes.status == 200 and yes.json()["value"] == "yes", yes
    no = stack.request("GET", "/v1/flags/by-query/evaluate?plan=free")
    assert no.json()["value"] == "no", no
    assert_problem(stack.request("GET", "/v1/flags/missing/evaluate"), 404, "flag_not_found")
    assert_problem(send(stack, "POST", "/v1/flags/by-query/evaluate", {"context": [1]}),
                   400, "invalid_context")


def test_bulk_evaluation_answers_every_flag(stack):
    send(stack, "POST", "/v1/environments", {"name": "bulk"})
    for i in range(5):
        put_flag(stack, f"f{i}", {"value": i}, env="bulk")
    resp = send(stack, "POST", "/v1/evaluate?env=bulk", {"context": {"targetingKey": "u"}})
    assert resp.status == 200, resp
    doc = resp.json()
    assert [f["key"] for f in doc["flags"]] == [f"f{i}" for i in range(5)], doc
    assert [f["value"] for f in doc["flags"]] == list(range(5)), doc
    assert doc["revision"] > 0


# -- the seed's /feature API on the default environment

def test_seed_feature_api(stack):
    body = {"criteria": {"country": "NL"}, "value": True}
    created = send(stack, "PUT", "/feature?feature=seeded", body)
    assert created.status == 201, created
    rev = created.json()["revision"]
    got = stack.request("GET", "/feature?feature=seeded")
    assert got.status == 200 and got.json()["value"] is True, got
    assert stack.request("GET", "/v1/flags/seeded").json()["revision"] == rev
    # POST is an update and really checks the revision (the seed did not).
    assert_problem(send(stack, "POST", "/feature?feature=seeded",
                        {**body, "value": False, "revision": rev - 1}), 409, "revision_mismatch")
    updated = send(stack, "POST", "/feature?feature=seeded", {**body, "value": False,
                                                              "revision": rev})
    assert updated.status == 200 and updated.json()["value"] is False, updated
    # The cache follows the watch: a change made in etcd is what GET serves.
    stack.etcdctl("put", "/dynconf/flags/default/seeded",
                  json.dumps({"key": "seeded", "value": "from-etcd"}))
    wait_until(lambda: stack.request("GET", "/feature?feature=seeded").json().get("value")
               == "from-etcd", timeout=1, what="the etcd change through /feature")
    assert stack.request("GET", "/feature?feature=seeded&force=true").headers["x-cache"] == "bypass"
    assert_problem(stack.request("GET", "/feature"), 400, "invalid_query")
    assert_problem(stack.request("GET", "/feature?feature=absent"), 404, "flag_not_found")
