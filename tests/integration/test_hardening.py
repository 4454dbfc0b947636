"""Issue 10 (hardening): defects found by trying the running stack as a
careful user and as an attacker would. Each test here failed before its fix.

- A body that is valid JSON but not an object never kills a responder, on
  any route that takes a body; a crash loop never leaves a node with no
  responder at all.
- An empty or repeated query parameter is a 400, never a default.
- A PUT honours a stale "revision" in its body (409), as POST does.
- Many long-poll watches wait at once without starving other requests.
- nginx (as the dev and test stacks run it) writes no bearer token to its
  error log.
"""

import concurrent.futures
import json
import os
import re
import signal
import time

import harness
from harness import Stack, assert_problem, wait_until

JSON = {"Content-Type": "application/json"}
NOT_OBJECTS = [b"null", b"true", b"false", b"[]", b"[1]", b'"x"', b"1", b"-0.5", b""]


def module_fixture():
    with Stack(processes=2) as stack:
        yield stack


def put(stack, path, doc, headers=None):
    return stack.request("PUT", path, json.dumps(doc).encode(), {**JSON, **(headers or {})})


def body_routes(stack):
    """(method, path) of every route that takes a JSON body, from /v1/openapi.json."""
    doc = stack.request("GET", "/v1/openapi.json").json()
    routes = []
    for pattern, item in doc["paths"].items():
        path = re.sub(r"\{[^}]*\}", "x", pattern)
        for method, op in item.items():
            if isinstance(op, dict) and "requestBody" in op:
                routes.append((method.upper(), path))
    return routes


# -- 1. bodies that are JSON but not objects

def test_non_object_bodies_never_kill_a_responder(stack):
    routes = body_routes(stack)
    assert ("PUT", "/v1/flags/x") in routes and ("PUT", "/v1/config/x") in routes, routes
    routes.append(("PUT", "/feature?feature=x"))
    routes.append(("POST", "/feature?feature=x"))
    before = sorted(stack.pool.responder_pids())
    for method, path in routes:
        for body in NOT_OBJECTS:
            resp = stack.request(method, path, body, JSON)
            if body == b"" and "evaluate" in path:
                # No body at all is an evaluation with an empty context
                # (of a flag that does not exist here).
                assert resp.status in (200, 404), (method, path, resp)
                continue
            assert resp.status in (400, 404, 428), (method, path, body, resp)
            if path.startswith("/ofrep/"):
                # OFREP's own error form (API.md section 12).
                assert "errorCode" in resp.json(), (method, path, body, resp)
                continue
            assert resp.headers["content-type"].startswith("application/problem+json"), \
                (method, path, body, resp)
    assert sorted(stack.pool.responder_pids()) == before, "a responder died"
    assert "killed by signal" not in stack.pool.log_text()
    # Nothing was written by any of them.
    assert_problem(stack.request("GET", "/v1/flags/x"), 404, "flag_not_found")
    assert_problem(stack.request("GET", "/v1/config/x"), 404, "config_not_found")


def test_flag_body_not_an_object_is_a_validation_error(stack):
    for path in ("/v1/flags/x", "/feature?feature=x"):
        resp = stack.request("PUT", path, b"null", JSON)
        doc = assert_problem(resp, 400, "validation_failed") or resp.json()
        assert doc["errors"][0]["field"] == "body", doc


def test_crash_loop_never_leaves_the_node_without_a_responder():
    """Responders killed as fast as they start: one is always restarted soon."""
    with Stack(processes=2, web=()) as stack:
        pool = stack.pool
        deadline = time.monotonic() + 6
        kills = 0
        # Every responder dies right after start, again and again: each
        # slot's back-off grows towards 10 s.
        while time.monotonic() < deadline and kills < 40:
            for pid in pool.responder_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        assert kills >= 12, f"only {kills} kills"
        # With every slot backing off for seconds, one must still come back
        # within a fraction of a second.
        started = time.monotonic()
        wait_until(lambda: pool.responder_pids(), timeout=1.0, interval=0.01,
                   what="a responder despite the back-off")
        assert time.monotonic() - started < 1.0
        assert stack.fcgi("GET", "/v1/health").status == 200
        pool.wait_for_log(r"backing off after crashes; starting one anyway")


# -- 2. query parameters: empty and repeated

def test_empty_env_is_refused_and_writes_nothing(stack):
    assert put(stack, "/v1/flags/envtest", {"value": "prod"}).status in (200, 201)
    resp = put(stack, "/v1/flags/envtest?env=", {"value": "oops"})
    assert_problem(resp, 400, "invalid_key")
    for method in ("GET", "DELETE"):
        assert_problem(stack.request(method, "/v1/flags/envtest?env="), 400, "invalid_key")
    assert_problem(stack.request("GET", "/v1/flags?env="), 400, "invalid_key")
    assert_problem(stack.request("GET", "/v1/flags/envtest/evaluate?env="), 400, "invalid_key")
    assert stack.request("GET", "/v1/flags/envtest").json()["value"] == "prod"


def test_repeated_query_parameters_are_refused(stack):
    assert put(stack, "/v1/flags/reptest", {"value": 1}).status in (200, 201)
    cases = [
        ("PUT", "/v1/flags/reptest?env=default&env=other", {"value": 2}, "env"),
        ("GET", "/v1/flags/reptest?force=false&force=true", None, "force"),
        ("GET", "/v1/flags?limit=1&limit=1000", None, "limit"),
        ("GET", "/v1/config?prefix=a&prefix=b", None, "prefix"),
        ("GET", "/v1/flags/reptest/evaluate?plan=a&plan=b", None, "plan"),
        ("GET", "/feature?feature=reptest&feature=other", None, "feature"),
        ("DELETE", "/v1/flags/reptest?env=default&env=default", None, "env"),
        ("GET", "/v1/watch?prefix=config/&prefix=flags/default/&timeout=1", None,
         "prefix"),
    ]
    for method, path, doc, name in cases:
        body = json.dumps(doc).encode() if doc is not None else None
        resp = stack.request(method, path, body, JSON if body else None)
        assert_problem(resp, 400, "repeated_parameter")
        assert f" {name} " in resp.json()["detail"], resp.json()
    assert stack.request("GET", "/v1/flags/reptest").json()["value"] == 1


# -- 7. a stale "revision" in a PUT body

def test_put_with_a_stale_body_revision_is_a_conflict(stack):
    first = put(stack, "/v1/flags/lost-update", {"value": "a"}).json()
    second = put(stack, "/v1/flags/lost-update",
                 {"value": "b", "revision": first["revision"]})
    assert second.status == 200, second
    stale = put(stack, "/v1/flags/lost-update", {"value": "c", "revision": first["revision"]})
    assert_problem(stale, 409, "revision_mismatch")
    assert stack.request("GET", "/v1/flags/lost-update").json()["value"] == "b"
    # The same through the seed's form.
    stale = put(stack, "/feature?feature=lost-update",
                {"value": "d", "revision": first["revision"]})
    assert_problem(stale, 409, "revision_mismatch")
    # If-Match wins over the body's revision: 412 when it is stale.
    resp = put(stack, "/v1/flags/lost-update", {"value": "e", "revision": 1},
               {"If-Match": f'"{first["revision"]}"'})
    assert_problem(resp, 412)
    bad = put(stack, "/v1/flags/lost-update", {"value": "e", "revision": "soon"})
    assert_problem(bad, 400, "validation_failed")
    assert stack.request("GET", "/v1/flags/lost-update").json()["value"] == "b"


# -- 8. many watches at once

def test_many_watches_wait_while_other_requests_are_served(stack):
    watchers = 24
    revision = stack.request("GET", "/v1/health").json()["replica_revision"]

    def watch(_):
        return stack.request("GET", f"/v1/watch?prefix=config/manywatch/&since={revision}"
                             "&timeout=4", timeout=15)

    responders = sorted(stack.pool.responder_pids())
    with concurrent.futures.ThreadPoolExecutor(watchers) as pool:
        futures = [pool.submit(watch, i) for i in range(watchers)]
        time.sleep(1.0)
        # Issue 13: they wait in the waiting process, not in spare responders.
        assert sorted(stack.pool.responder_pids()) == responders
        # Everything else is still served at once, the waits notwithstanding.
        for _ in range(20):
            started = time.monotonic()
            assert stack.request("GET", "/v1/health").status == 200
            assert time.monotonic() - started < 0.5
        assert put(stack, "/v1/config/manywatch/x", {"value": 1}).status == 201
        answers = [f.result() for f in futures]
    statuses = [a.status for a in answers]
    assert statuses == [200] * watchers, statuses
    assert all(a.json()["events"] for a in answers), "a watch missed the change"


# -- 9. no token in nginx's error log

def test_nginx_error_log_holds_no_bearer_token(stack):
    secret = "dct_" + "ab" * 32
    raw = (f"GET /v1/flags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n"
           f"Authorization: Bearer {secret}\r\nConnection: close\r\n\r\n").encode()
    import socket
    with socket.create_connection(("127.0.0.1", stack.nginx.port), timeout=5) as conn:
        conn.sendall(raw)
        reply = conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:80]
    time.sleep(0.2)
    assert secret not in stack.nginx.error_log.read_text(errors="replace")


# -- should-fix items of the review

def test_environment_ordering_is_validated_and_applied(stack):
    for name in ("ord-b", "ord-a", "ord-c"):
        assert stack.request("POST", "/v1/environments",
                             json.dumps({"name": name}).encode(), JSON).status == 201
        time.sleep(1.05)    # created_at has whole seconds
    for bogus in ("bogus", "-", "name,bogus", "", "sdk_key"):
        assert_problem(stack.request("GET", f"/v1/environments?ordering={bogus}"), 400,
                       "invalid_ordering")
    names = lambda q: [e["name"] for e in stack.request(
        "GET", f"/v1/environments?{q}").json()["items"] if e["name"].startswith("ord-")]
    assert names("ordering=name") == ["ord-a", "ord-b", "ord-c"]
    assert names("ordering=-name") == ["ord-c", "ord-b", "ord-a"]
    assert names("ordering=created_at") == ["ord-b", "ord-a", "ord-c"]
    assert names("ordering=-created_at") == ["ord-c", "ord-a", "ord-b"]
    page = stack.request("GET", "/v1/environments?ordering=-name&limit=1").json()
    assert page["limit"] == 1 and len(page["items"]) == 1 and page["total"] >= 4, page
    assert_problem(stack.request("GET", "/v1/flags?ordering=bogus"), 400, "invalid_ordering")


def test_environment_names_are_invalid_key_and_messages_say_why(stack):
    for bad in ("../x", "", "-a", "a" * 129, "a b"):
        resp = stack.request("POST", "/v1/environments", json.dumps({"name": bad}).encode(), JSON)
        assert_problem(resp, 400, "invalid_key")
    resp = stack.request("POST", "/v1/environments", b"{}", JSON)
    assert_problem(resp, 400, "validation_failed")
    assert "required" in resp.json()["detail"], resp.json()
    resp = stack.request("POST", "/v1/environments", b'{"name": 5}', JSON)
    assert_problem(resp, 400, "validation_failed")
    assert "string" in resp.json()["detail"], resp.json()


def test_evaluation_context_is_checked(stack):
    assert put(stack, "/v1/flags/ctx-flag",
               {"value": "hit", "default": "miss",
                "criteria": {"email": {"regex": "@example\\.com$"}}}).status in (200, 201)
    evaluate = lambda ctx: stack.request("POST", "/v1/flags/ctx-flag/evaluate",
                                         json.dumps({"context": ctx}).encode(), JSON)
    for key in ({"a": 1}, [1], True, False):
        assert_problem(evaluate({"targetingKey": key}), 400, "invalid_context")
    assert evaluate({"targetingKey": "u1"}).status == 200
    assert evaluate({"targetingKey": 42}).status == 200
    assert evaluate({"targetingKey": None}).status == 200
    # A string a regex would never read: refused, not a silent non-match.
    long_email = "x" * 4100 + "@example.com"
    assert_problem(evaluate({"email": long_email}), 400, "invalid_context")
    assert_problem(evaluate({"deep": {"list": ["y" * 4097]}}), 400, "invalid_context")
    resp = stack.request("GET", "/v1/flags/ctx-flag/evaluate?email=" + "z" * 4097)
    assert_problem(resp, 400, "invalid_context")
    assert evaluate({"email": "x" * 4084 + "@example.com"}).json()["value"] == "hit"
    assert_problem(stack.request("POST", "/v1/evaluate",
                                 json.dumps({"context": {"targetingKey": {}}}).encode(), JSON),
                   400, "invalid_context")


def test_watch_answers_are_bounded_in_bytes(stack):
    since = stack.request("GET", "/v1/health").json()["replica_revision"]
    big = "v" * (600 * 1024)
    for i in range(3):
        assert put(stack, f"/v1/config/bigwatch/k{i}", {"value": big}).status == 201
    seen, rounds = [], 0
    while len(seen) < 3 and rounds < 6:
        resp = stack.request("GET", f"/v1/watch?prefix=config/bigwatch/&since={since}"
                                    "&timeout=1")
        assert resp.status == 200, resp
        assert len(resp.body) < 1024 * 1024 + 64 * 1024, len(resp.body)
        doc = resp.json()
        seen += [e["key"] for e in doc["events"]]
        since = doc["revision"]
        rounds += 1
    assert seen == ["bigwatch/k0", "bigwatch/k1", "bigwatch/k2"], seen
    assert rounds == 3, f"{rounds} answers for three 600 KiB values"


def test_too_many_watches_message_reads_well():
    with Stack(processes=2, overrides={"server.max_watches": 1}) as stack:
        revision = stack.request("GET", "/v1/health").json()["replica_revision"]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(stack.request, "GET",
                                  f"/v1/watch?prefix=config/&since={revision}&timeout=3")
            time.sleep(0.5)
            resp = stack.request("GET", f"/v1/watch?prefix=config/&since={revision}&timeout=3")
            assert_problem(resp, 429, "too_many_watches")
            assert "1 watches" not in resp.json()["detail"], resp.json()
            assert "max_watches = 1" in resp.json()["detail"], resp.json()
            assert waiting.result().status == 200
