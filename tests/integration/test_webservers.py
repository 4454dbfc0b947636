"""The shipped web server and process manager files (contrib/): Apache with
mod_proxy_fcgi answers like nginx, both hand the backend what it needs, and
spawn-fcgi runs the responders.
"""

import json
import os
import pwd
import re
import signal


import harness
from harness import Stack, assert_problem, wait_until

# Paths whose percent-encoding and query must reach dynconf untouched.
ENCODED_PATHS = [
    "/v1/he%61lth?x=1%202&y=%C3%A9",
    "/v1/%68ealth",
    "/v1/health?a=%2F&b=%26&c",
    "/v1/no%20such/thing?q=%41",
    "/v1/health?x=%zz",
    "/v1/health/%2e%2e/health",
    "/v1/config/a%2Fb",
    "/v1/he%2Flth",
    "/nothing/here",
]


def module_fixture():
    with Stack(processes=2, web=("nginx", "apache")) as stack:
        yield stack


def comparable(resp):
    """What must not differ between two web servers in front of one pool."""
    ctype = resp.headers.get("content-type", "").split(";")[0]
    body = resp.body
    if ctype.endswith("json"):
        body = resp.json()
        if isinstance(body, dict):
            body.pop("request_id", None)
    return resp.status, ctype, body


# -- Apache in front of the pool

def test_apache_serves_health(stack):
    resp = stack.request("GET", "/v1/health", via="apache")
    assert resp.status == 200, resp
    assert resp.json()["status"] == "ok"
    assert harness.REQUEST_ID.fullmatch(resp.headers["x-request-id"])


def test_apache_passes_problem_documents_through(stack):
    assert_problem(stack.request("GET", "/v1/nope", via="apache"), 404, "not_found")
    resp = stack.request("DELETE", "/v1/health", via="apache")
    assert_problem(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["allow"]


def test_apache_echoes_the_request_id(stack):
    resp = stack.request("GET", "/v1/nope", headers={"X-Request-Id": "via-apache.1"}, via="apache")
    doc = assert_problem(resp, 404)
    assert resp.headers["x-request-id"] == "via-apache.1" == doc["request_id"]


def test_apache_and_nginx_answer_alike(stack):
    for path in ENCODED_PATHS:
        nginx = stack.request("GET", path, via="nginx")
        apache = stack.request("GET", path, via="apache")
        assert comparable(nginx) == comparable(apache), f"{path}:\n nginx  {nginx!r}\n apache {apache!r}"
    # The first two are /v1/health spelt with escapes: dynconf decodes them.
    assert stack.request("GET", ENCODED_PATHS[0], via="apache").status == 200


def test_apache_and_nginx_pass_bodies_alike(stack):
    harness.require_body_route(stack)
    for body, ctype in ((b'{"value":{"a":[1,2]}}', "application/json"),
                        (b'{"value":', "application/json"),
                        (b'{"value":1}', "text/plain")):
        answers = [comparable(stack.request("PUT", f"/v1/config/web/alike-{via}", body=body,
                                            headers={"Content-Type": ctype}, via=via))
                   for via in ("nginx", "apache")]
        # Keys and revisions differ between the two writes; status and type may not.
        assert answers[0][:2] == answers[1][:2], answers


def test_oversized_body_gets_the_pools_413_through_both(stack):
    # Over the default server.max_body (1 MiB) but under the web servers'
    # backstops: the client must see dynconf's problem document.
    body = b" " * (1024 * 1024 + 1)
    for via in ("nginx", "apache"):
        resp = stack.request("GET", "/v1/health", body=body,
                             headers={"Content-Type": "application/json"}, via=via)
        assert_problem(resp, 413, "payload_too_large")


# -- what the web servers hand the backend (an echo responder stands in)

def test_web_servers_pass_what_dynconf_needs():
    with Stack(backend="echo", web=("nginx", "apache"), etcd=False) as stack:
        for via in ("nginx", "apache"):
            resp = stack.request(
                "PUT", "/v1/config/a%2Fb/c?x=%41&y", body=b'{"value":1}', via=via,
                headers={"Authorization": "Bearer t0ken.abc", "X-Request-Id": "rid-1",
                         "Content-Type": "application/json", "Proxy": "http://evil"})
            assert resp.status == 200, (via, resp)
            echo = resp.json()
            params = echo["params"]
            assert params.get("HTTP_AUTHORIZATION") == "Bearer t0ken.abc", (via, params)
            assert params.get("HTTP_X_REQUEST_ID") == "rid-1", (via, params)
            assert params["REQUEST_METHOD"] == "PUT", (via, params)
            assert params["REQUEST_URI"] == "/v1/config/a%2Fb/c?x=%41&y", (via, params)
            assert params["QUERY_STRING"] == "x=%41&y", (via, params)
            assert params["CONTENT_TYPE"] == "application/json", (via, params)
            assert params["CONTENT_LENGTH"] == "11", (via, params)
            assert echo["stdin"] == '{"value":1}', (via, echo)
            # httpoxy: a client's Proxy header never becomes HTTP_PROXY.
            assert not params.get("HTTP_PROXY"), (via, params)
            # One request per connection: no FastCGI keep-alive to the pool.
            assert echo["keep_conn"] is False, (via, echo)


# Which responder group each request goes to (server.write_listen): reads,
# evaluations included, never queue behind writes waiting on etcd.
ROUTED = [
    ("GET", "/v1/config/a", "dynconf.sock"),
    ("HEAD", "/v1/flags/x", "dynconf.sock"),
    ("GET", "/v1/watch?prefix=config/", "dynconf.sock"),
    ("POST", "/v1/flags/x/evaluate", "dynconf.sock"),
    ("POST", "/v1/evaluate", "dynconf.sock"),
    ("POST", "/ofrep/v1/evaluate/flags/x", "dynconf.sock"),
    ("POST", "/ofrep/v1/evaluate/flags", "dynconf.sock"),
    ("GET", "/api/v1/flags/", "dynconf.sock"),
    ("GET", "/api/v1/identities/?identifier=u1", "dynconf.sock"),
    ("POST", "/api/v1/analytics/flags/", "dynconf.sock"),
    ("POST", "/api/v1/identities/", "dynconf-write.sock"),
    ("PUT", "/v1/segments/s", "dynconf-write.sock"),
    ("PUT", "/v1/config/a", "dynconf-write.sock"),
    ("POST", "/v1/flags/x", "dynconf-write.sock"),
    ("POST", "/v1/flags/x/evaluate/more", "dynconf-write.sock"),
    ("POST", "/v1/evaluatex", "dynconf-write.sock"),
    ("PATCH", "/v1/users/1", "dynconf-write.sock"),
    ("DELETE", "/v1/config/a", "dynconf-write.sock"),
    ("POST", "/v1/tokens", "dynconf-write.sock"),
    ("OPTIONS", "/v1/health", "dynconf-write.sock"),
]


def test_web_servers_send_reads_and_writes_to_their_groups():
    with Stack(backend="echo", web=("nginx", "apache"), etcd=False) as stack:
        for via in ("nginx", "apache"):
            for method, path, socket_name in ROUTED:
                body = None if method in ("GET", "HEAD", "DELETE", "OPTIONS") else b"{}"
                resp = stack.request(method, path, body=body, via=via,
                                     headers={"Content-Type": "application/json"})
                assert resp.status == 200, (via, method, path, resp)
                if method != "HEAD":
                    assert resp.json()["socket"] == socket_name, (via, method, path)


# -- spawn-fcgi

def test_spawn_fcgi_serves_with_shared_metrics():
    with Stack(backend="spawn-fcgi", processes=2) as stack:
        spawn = stack.pool
        responders = spawn.responder_pids()
        assert len(responders) == 2, responders
        if harness.is_root():
            nobody = pwd.getpwnam(stack.run_user).pw_uid
            for pid in responders + spawn.watcher_pids():
                uids = {int(u) for u in harness.proc_status(pid)["Uid"].split()}
                assert uids == {nobody}, (pid, uids)
        assert spawn.watcher_pids(), "dynconf-spawn runs no watcher"
        resp = stack.request("GET", "/v1/health")
        assert resp.status == 200 and resp.json()["status"] == "ok", resp
        assert_problem(stack.request("GET", "/v1/nope"), 404, "not_found")
        # Both responders count into one metrics file.
        for i in range(40):
            assert stack.request("GET", "/v1/health", headers={"X-Request-Id": f"spawn-{i}"}).status == 200
        text = stack.request("GET", "/v1/metrics").body.decode()
        m = re.search(r'dynconf_http_requests_total\{route="/v1/health",method="GET",status="200"\} (\d+)', text)
        assert m and int(m.group(1)) >= 41, text[:800]
        wait_until(lambda: re.search(r"request id=spawn-39 ", spawn.log_path.read_text()),
                   timeout=5, what="the last request in the log")
        served_by = set(re.findall(r"responder\[(\d+)\] request id=spawn-", spawn.log_path.read_text()))
        assert served_by <= {str(p) for p in responders}, (served_by, responders)


def test_spawn_fcgi_config_changes_reach_the_responders():
    with Stack(backend="spawn-fcgi", processes=2) as stack:
        harness.require_body_route(stack)
        stack.etcdctl("put", "/dynconf/config/spawn/seen", "42")

        def served():
            resp = stack.request("GET", "/v1/config/spawn/seen")
            return resp.status == 200 and resp.json().get("value") == 42
        wait_until(served, timeout=5, interval=0.1, what="the etcdctl write to be served")


def test_spawn_fcgi_stops_on_sigterm():
    with Stack(backend="spawn-fcgi", processes=2, web=()) as stack:
        spawn = stack.pool
        pids = spawn.responder_pids() + spawn.writer_pids() + spawn.watcher_pids()
        assert len(spawn.writer_pids()) == 2, "no write responders under spawn-fcgi"
        spawn.proc.send_signal(signal.SIGTERM)
        assert spawn.proc.wait(10) == 0, "dynconf-spawn did not stop"
        wait_until(lambda: not any(harness.pid_alive(p) for p in pids), timeout=5,
                   what="the responders and the watcher to exit")
        assert not stack.socket_path.exists(), "socket left behind"
        assert not stack.write_socket_path.exists(), "write socket left behind"
        assert not spawn.pidfile.exists(), "pidfile left behind"


def test_spawn_fcgi_responder_restarts_nothing_but_keeps_serving():
    """A responder killed under spawn-fcgi is not replaced; the others serve on."""
    with Stack(backend="spawn-fcgi", processes=2) as stack:
        first, second = stack.pool.responder_pids()
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: not harness.pid_alive(first), timeout=5, what="the responder to die")
        for _ in range(10):
            assert stack.request("GET", "/v1/health").status == 200
        assert stack.pool.proc.alive(), "dynconf-spawn must stay while a responder runs"
        os.kill(second, signal.SIGKILL)
        assert stack.pool.proc.wait(5) is not None, "dynconf-spawn must exit with its responders"



# -- the web servers' own refusals are problem documents too

def raw_exchange(port, data):
    """Send raw bytes, return (status, headers dict, body) of the reply."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        try:
            conn.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass    # it answered before taking the whole body
        reply = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = harness.Headers(tuple(l.split(": ", 1)) for l in lines[1:] if ": " in l)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks, rest = [], body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            if n == 0:
                break
            chunks.append(rest[:n])
            rest = rest[n + 2:]
        body = b"".join(chunks)
    return int(lines[0].split()[1]), headers, body


WEB_SERVER_REFUSALS = [
    ("a bad escape in the path", b"GET /v1/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
     400),
    ("a header over 8 KB", b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 +
     b"\r\nConnection: close\r\n\r\n", 400),
    ("a request line over 8 KB", b"GET /v1/health?" + b"a" * 9000 +
     b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414),
    ("TRACE", b"TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    ("a body over the limit", b"PUT /v1/config/x HTTP/1.1\r\nHost: x\r\nContent-Type: "
     b"application/json\r\nContent-Length: 3000000\r\nConnection: close\r\n\r\n" +
     b" " * 3000000, 413),
]


def test_web_servers_answer_their_own_refusals_as_problem_documents(stack):
    for via in ("nginx", "apache"):
        for what, data, status in WEB_SERVER_REFUSALS:
            got, headers, body = raw_exchange(stack.port(via), data)
            assert got == status, (via, what, got, body[:200])
            ctype = headers.get("content-type", "")
            assert ctype.split(";")[0] == "application/problem+json", (via, what, ctype, body)
            try:
                doc = json.loads(body)
            except ValueError:
                raise AssertionError((via, what, got, headers, body[:300])) from None
            assert doc["status"] == status and doc["code"], (via, what, doc)
            assert "request_id" in doc and "detail" in doc, (via, what, doc)
