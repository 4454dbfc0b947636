"""The request pipeline as clients see it through nginx (API.md sections 1, 3):
request ids, problem documents, 404/405/413/415/400, OpenAPI and metrics.

The checks of JSON bodies need a route that takes one; PUT /v1/config/{key}
is that route. Until it is served they are skipped, saying so.
"""

import json
import re
import threading
import time

import harness
from harness import assert_problem, require_body_route, wait_until

MAX_BODY = 2048
JSON = {"Content-Type": "application/json"}


def module_fixture():
    # A small server.max_body so that 413 is cheap to provoke; nginx's own
    # limit (2m in the shipped file) stays far above it.
    with harness.Stack(processes=2, overrides={"server.max_body": MAX_BODY}) as stack:
        yield stack


# -- health and request ids

def test_health_answers_ok_with_version(stack):
    resp = stack.request("GET", "/v1/health")
    assert resp.status == 200, resp
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    doc = resp.json()
    assert doc["status"] == "ok", doc
    assert isinstance(doc["version"], str) and doc["version"], doc
    assert set(doc) == {"status", "version", "etcd", "replica_revision",
                        "replica_lag_ms", "circuit_breaker"}, doc
    assert doc["etcd"] in ("up", "down"), doc
    assert isinstance(doc["replica_revision"], int), doc
    assert doc["replica_lag_ms"] is None or isinstance(doc["replica_lag_ms"], int), doc
    assert doc["circuit_breaker"] in ("closed", "open", "half_open"), doc
    assert resp.headers["cache-control"] == "no-store", resp.headers
    assert harness.REQUEST_ID.fullmatch(resp.headers["x-request-id"]), resp.headers


def test_path_from_script_name_and_path_info_without_request_uri(stack):
    """A front end that sends no REQUEST_URI still names the path."""
    params = harness.cgi_params("GET", "/v1/health")
    del params["REQUEST_URI"]
    params["SCRIPT_NAME"], params["PATH_INFO"] = "/v1", "/health"
    resp = harness.fcgi_request(stack.socket_path, params)
    assert resp.status == 200 and resp.json()["status"] == "ok", resp.raw
    params["SCRIPT_NAME"], params["PATH_INFO"] = "/v1/nothing", "/here"
    assert harness.fcgi_request(stack.socket_path, params).status == 404


def test_header_block_over_fastcgi(stack):
    """Status, type, length and the handler's headers, each on its own line."""
    resp = harness.fcgi_request(stack.socket_path, harness.cgi_params(
        "GET", "/v1/health", headers={"X-Request-Id": "abc-123"}))
    lines = resp.raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    assert lines[0] == "Status: 200 OK", lines
    assert "Content-Type: application/json" in lines, lines
    assert f"Content-Length: {len(resp.body)}" in lines, lines
    assert "X-Request-Id: abc-123" in lines, lines
    assert "Cache-Control: no-store" in lines, lines


def test_header_block_of_head_and_of_an_empty_answer(stack):
    """HEAD: the GET's length and no body. 204: no type, no length, no body."""
    get = harness.fcgi_request(stack.socket_path, harness.cgi_params("GET", "/v1/health"))
    head = harness.fcgi_request(stack.socket_path, harness.cgi_params("HEAD", "/v1/health"))
    lines = head.raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    assert lines[0] == "Status: 200 OK", lines
    assert f"Content-Length: {len(get.body)}" in lines and len(get.body) > 0, lines
    assert head.body == b"", head.raw
    assert stack.request("PUT", "/v1/config/pipeline/gone", body='{"value": 1}',
                         headers={"Content-Type": "application/json"}).status == 201
    gone = harness.fcgi_request(stack.socket_path,
                                harness.cgi_params("DELETE", "/v1/config/pipeline/gone"))
    lines = gone.raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    assert lines[0] == "Status: 204 No Content", lines
    assert not any(line.startswith(("Content-Type", "Content-Length")) for line in lines), lines
    assert gone.body == b"", gone.raw


def test_head_health_has_no_body(stack):
    resp = stack.request("HEAD", "/v1/health")
    assert resp.status == 200 and resp.body == b"", resp


def test_valid_request_id_is_echoed(stack):
    for rid in ("abc", "A.b_c-9", "x" * 128):
        resp = stack.request("GET", "/v1/health", headers={"X-Request-Id": rid})
        assert resp.status == 200, resp
        assert resp.headers["x-request-id"] == rid, (rid, resp.headers)


def test_invalid_request_id_is_replaced(stack):
    for rid in ("x" * 129, "has space", "semi;colon", "slash/no", "ümlaut".encode().decode("latin-1")):
        resp = stack.request("GET", "/v1/health", headers={"X-Request-Id": rid})
        assert resp.status == 200, resp
        fresh = resp.headers["x-request-id"]
        assert fresh != rid and harness.REQUEST_ID.fullmatch(fresh), (rid, fresh)


def test_missing_request_id_gets_a_fresh_one_each_time(stack):
    ids = {stack.request("GET", "/v1/health").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5, ids


def test_request_id_on_errors(stack):
    resp = stack.request("GET", "/v1/no-such-thing", headers={"X-Request-Id": "err-id-1"})
    doc = assert_problem(resp, 404, "not_found")
    assert resp.headers["x-request-id"] == "err-id-1" and doc["request_id"] == "err-id-1"
    resp = stack.request("GET", "/v1/no-such-thing", headers={"X-Request-Id": "bad id"})
    doc = assert_problem(resp, 404, "not_found")
    assert doc["request_id"] != "bad id"


def test_request_id_is_in_the_log_line(stack):
    rid = f"log-check-{time.time_ns()}"
    stack.request("GET", "/v1/health?probe=1", headers={"X-Request-Id": rid})
    stack.request("GET", "/v1/nowhere", headers={"X-Request-Id": rid + "-404"})
    # The line is written just after the response goes out: wait for it.
    stack.pool.wait_for_log(rf"request id={re.escape(rid)} method=GET path=/v1/health status=200")
    stack.pool.wait_for_log(rf"request id={re.escape(rid)}-404 method=GET path=/v1/nowhere status=404")


# -- routing errors

def test_unknown_route_is_404_problem(stack):
    for path in ("/v1/nothing", "/", "/v1", "/v1/health/extra", "/v2/health"):
        doc = assert_problem(stack.request("GET", path), 404, "not_found")
        assert doc["type"] == "about:blank" and doc["title"], doc


def test_wrong_method_is_405_with_allow(stack):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        resp = stack.request(method, "/v1/health", body=b"{}", headers=JSON)
        assert_problem(resp, 405, "method_not_allowed")
        allowed = {m.strip() for m in resp.headers["allow"].split(",")}
        assert {"GET", "HEAD"} <= allowed and method not in allowed, resp.headers["allow"]


def test_bad_percent_encoding_in_query_is_400(stack):
    for query in ("x=%zz", "x=%4", "%zz=1", "x=%00", "a=1&b=%G1"):
        assert_problem(stack.request("GET", "/v1/health?" + query), 400, "invalid_encoding")
    # Well-formed encoding is fine.
    assert stack.request("GET", "/v1/health?x=%41%20b&y=%C3%A9").status == 200


# -- bodies

def test_body_over_max_body_with_content_length_is_413(stack):
    # The size check comes before routing to a handler: any route shows it.
    resp = stack.request("GET", "/v1/health", body=b"x" * (MAX_BODY * 2), headers=JSON)
    doc = assert_problem(resp, 413, "payload_too_large")
    assert str(MAX_BODY) in doc["detail"], doc


def test_body_at_max_body_is_not_413(stack):
    resp = stack.request("GET", "/v1/health", body=b" " * MAX_BODY, headers=JSON)
    assert resp.status == 200, resp


def test_json_route_body_over_max_body_is_413(stack):
    require_body_route(stack)
    body = json.dumps({"value": "x" * (MAX_BODY * 2)}).encode()
    assert_problem(stack.request("PUT", "/v1/config/big", body=body, headers=JSON),
                   413, "payload_too_large")


def test_non_json_content_type_is_415(stack):
    require_body_route(stack)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                  "application/merge-patch+json"):
        resp = stack.request("PUT", "/v1/config/app/x", body=b'{"value":1}',
                             headers={"Content-Type": ctype})
        assert_problem(resp, 415, "unsupported_media_type")
    # Parameters on the media type are fine.
    resp = stack.request("PUT", "/v1/config/app/x", body=b'{"value":1}',
                         headers={"Content-Type": "application/json; charset=utf-8"})
    assert resp.status != 415, resp


def put_config(stack, body):
    return stack.request("PUT", "/v1/config/app/body-check", body=body, headers=JSON)


def test_invalid_json_is_400(stack):
    require_body_route(stack)
    for body in (b"{", b'{"value":}', b'{"value":1} trailing', b'{"value":1,}',
                 b'{"value":01}', b'{"value":tru}', b"[1,2", b'"unterminated'):
        assert_problem(put_config(stack, body), 400, "invalid_json")


def test_json_extensions_are_400(stack):
    require_body_route(stack)
    # What json-c alone would let through.
    for body in (b"{'value':1}", b'{"value":NaN}', b'{"value":Infinity}', b'{"value":-Infinity}',
                 b'{"value":1.}'):
        assert_problem(put_config(stack, body), 400, "invalid_json")


def test_json_deeper_than_64_levels_is_400(stack):
    require_body_route(stack)
    # {"value": ...} is one level itself.
    ok = b'{"value":' + b"[" * 63 + b"]" * 63 + b"}"
    deep = b'{"value":' + b"[" * 64 + b"]" * 64 + b"}"
    resp = put_config(stack, ok)
    assert resp.status < 400, f"64 levels must be accepted: {resp!r}"
    assert_problem(put_config(stack, deep), 400, "json_too_deep")


def test_invalid_utf8_is_400(stack):
    require_body_route(stack)
    # A stray byte, a bad continuation, a truncated sequence.
    for bad in (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\x80"):
        assert_problem(put_config(stack, b'{"value":"' + bad + b'"}'), 400, "invalid_utf8")


def test_overlong_utf8_and_surrogates_are_400(stack):
    require_body_route(stack)
    # Overlong "/", a UTF-16 surrogate, beyond U+10FFFF.
    for bad in (b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"):
        assert_problem(put_config(stack, b'{"value":"' + bad + b'"}'), 400, "invalid_utf8")


def test_nul_byte_in_body_is_400(stack):
    require_body_route(stack)
    doc = assert_problem(put_config(stack, b'{"value":"a\x00b"}'), 400)
    assert doc["code"] in ("invalid_json", "invalid_utf8"), doc


# -- OpenAPI and metrics

def routes_in_table():
    """(METHOD, OpenAPI path) of every row of src/resources/routes.c's route table."""
    text = (harness.REPO / "src/resources/routes.c").read_text()
    rows = re.findall(r'\.method\s*=\s*HTTP_([A-Z]+),\s*\.pattern\s*=\s*"(/[^"]*)"', text)
    return {(method, path.replace("...}", "}")) for method, path in rows}


def test_openapi_is_3_1_and_lists_every_route(stack):
    resp = stack.request("GET", "/v1/openapi.json")
    assert resp.status == 200, resp
    doc = resp.json()
    assert doc["openapi"].startswith("3.1"), doc.get("openapi")
    assert doc["info"]["version"], doc.get("info")
    listed = {(method.upper(), path) for path, item in doc["paths"].items()
              for method in item if method in ("get", "put", "post", "patch", "delete")}
    expected = routes_in_table()
    assert {("GET", "/v1/health"), ("GET", "/v1/openapi.json"), ("GET", "/v1/metrics")} <= expected
    missing = expected - listed
    assert not missing, f"routes missing from openapi.json: {sorted(missing)}"


def metric_value(text, name, **labels):
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return 0.0


def test_metrics_count_requests_of_the_whole_pool(stack):
    before = stack.request("GET", "/v1/metrics")
    assert before.status == 200, before
    assert before.headers["content-type"].startswith("text/plain"), before.headers
    assert "# TYPE dynconf_http_requests_total counter" in before.body.decode()
    labels = {"route": "/v1/health", "method": "GET", "status": "200"}
    start = metric_value(before.body.decode(), "dynconf_http_requests_total", **labels)

    # Concurrent clients, so that both responders serve some of them.
    n_threads, per_thread, errors = 4, 50, []

    def client(k):
        for i in range(per_thread):
            r = stack.request("GET", "/v1/health", headers={"X-Request-Id": f"metrics-{k}-{i}"})
            if r.status != 200:
                errors.append(r)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    total = n_threads * per_thread

    # A responder counts a request once its answer is out, so the last
    # count may land just after the client has its answer.
    def counted_all():
        text = stack.request("GET", "/v1/metrics").body.decode()
        n = metric_value(text, "dynconf_http_requests_total", **labels) - start
        return text if n >= total else None
    after = wait_until(counted_all, timeout=2, what=f"{total} requests counted")
    # Prove that several processes served them: the pid is in each log line.
    stack.pool.wait_for_log(r"request id=metrics-3-49 ")
    pids = set(re.findall(r"responder\[(\d+)\] request id=metrics-", stack.pool.log_text()))
    assert len(pids) >= 2, f"only responders {pids} served; the sum proves nothing"
    # Two read responders and four writers for each (server.write_processes
    # left at 0).
    assert metric_value(after, "dynconf_responders") == 2 + 8, after
    assert metric_value(after, "dynconf_http_request_duration_seconds_count") >= total


# -- one way to validate request input (the route table's declarations)

def test_booleans_follow_one_rule_everywhere(stack):
    assert stack.request("POST", "/v1/environments", b'{"name":"boolenv"}',
                         {"Content-Type": "application/json"}).status == 201
    for path in ("/v1/environments/boolenv?cascade=yes", "/v1/environments/boolenv?cascade="):
        resp = stack.request("DELETE", path)
        assert_problem(resp, 400, "invalid_query")
        assert resp.json()["errors"][0]["field"] == "cascade", resp.json()
    assert stack.request("GET", "/v1/environments/boolenv").status == 200
    for path, name in (("/v1/config/x?force=yes", "force"), ("/v1/flags?enabled=yes", "enabled"),
                       ("/v1/flags/x?force=2", "force")):
        resp = stack.request("GET", path)
        assert_problem(resp, 400, "invalid_query")
        assert resp.json()["errors"][0]["field"] == name, resp.json()
    for word in ("true", "1", "false", "0"):
        assert stack.request("GET", f"/v1/flags?enabled={word}").status == 200
    assert stack.request("DELETE", "/v1/environments/boolenv?cascade=1").status == 204


def test_every_bad_field_is_named_in_one_answer(stack):
    resp = stack.request("POST", "/v1/tokens", json.dumps(
        {"name": "a b", "scopes": "admin", "ttl": "soon", "extra": 1}).encode(),
        {"Content-Type": "application/json"})
    assert_problem(resp, 400, "unknown_field")
    fields = [e["field"] for e in resp.json()["errors"]]
    assert fields == ["extra", "name", "scopes", "ttl"], fields
    resp = stack.request("GET", "/v1/flags?limit=0&offset=-1&enabled=maybe")
    assert_problem(resp, 400, "invalid_query")
    assert [e["field"] for e in resp.json()["errors"]] == ["enabled", "limit", "offset"]


def test_a_field_given_twice_is_refused(stack):
    for path, body in (("/v1/config/twice", b'{"value":1,"value":2}'),
                       ("/v1/flags/twice", b'{"value":1,"default":0,"value":3}'),
                       ("/v1/environments", b'{"name":"a","name":"b"}')):
        method = "POST" if path == "/v1/environments" else "PUT"
        resp = stack.request(method, path, body, {"Content-Type": "application/json"})
        assert_problem(resp, 400)
        assert resp.json()["errors"][0]["field"] == "body", resp.json()
    assert_problem(stack.request("GET", "/v1/config/twice"), 404)
    assert stack.request("GET", "/v1/environments/a").status == 404


def test_openapi_prints_each_routes_parameters_and_body(stack):
    doc = stack.request("GET", "/v1/openapi.json").json()
    flags = doc["paths"]["/v1/flags"]["get"]["parameters"]
    query = {p["name"]: p for p in flags if p["in"] == "query"}
    assert list(query) == ["env", "prefix", "enabled", "limit", "offset", "ordering"], query
    assert query["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000,
                                        "description": query["limit"]["schema"]["description"]}
    assert query["enabled"]["schema"]["enum"] == ["true", "false", "1", "0"]
    assert query["env"]["schema"]["pattern"].startswith("^[A-Za-z0-9]")
    token = doc["paths"]["/v1/tokens"]["post"]["requestBody"]
    schema = token["content"]["application/json"]["schema"]
    assert token["required"] is True
    assert schema["required"] == ["name", "scopes"], schema
    assert schema["additionalProperties"] is False
    assert schema["properties"]["ttl"]["type"] == "integer"
    watch = {p["name"]: p for p in doc["paths"]["/v1/watch"]["get"]["parameters"]}
    assert watch["prefix"]["required"] is True and watch["timeout"]["schema"]["maximum"] == 60
    evaluate = doc["paths"]["/v1/evaluate"]["post"]["requestBody"]
    assert evaluate["required"] is False
