"""What dynconf does and says when etcd fails (API.md section 1, dynconf-fcgi(8)
LOGGING): the log says once that etcd went down and once that it came back,
and each change of the circuit breaker, never a credential; writes fail at
once while the breaker is open; a write whose answer was lost after etcd
committed it is 504 write_outcome_unknown, one that never reached etcd is
503 store_unavailable; If-Match takes only entity tags; one revision of a
config entry always shows one updated_at.

The tests that stop etcd or put a proxy in front of it start their own
stack; the others share the module's.
"""

import base64
import json
import re
import socket
import threading
import time

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}
PASSWORD = "pw-that-must-never-be-logged-7f3a"


def module_fixture():
    with harness.Stack(processes=2) as stack:
        yield stack


def put(stack, key, value, headers=None):
    body = json.dumps({"value": value}).encode()
    return stack.request("PUT", f"/v1/config/{key}", body=body,
                         headers={**JSON, **(headers or {})})


def get(stack, key, query=""):
    return stack.request("GET", f"/v1/config/{key}{query}")


def health(stack):
    return stack.request("GET", "/v1/health").json()


def etcd_kv(stack, key):
    """etcd's own record of /dynconf/<key> (value decoded), or None."""
    doc = json.loads(stack.etcdctl("get", "-w", "json", f"/dynconf/{key}"))
    if not doc.get("kvs"):
        return None
    kv = doc["kvs"][0]
    kv["value"] = base64.b64decode(kv["value"]).decode()
    return kv


def credentials_stack(**kwargs):
    """A stack whose etcd client has a user and a password. etcd has no auth:
    dynconf goes on without a token, but asks for one on every call, so the
    password is in play whatever fails."""
    stack = harness.Stack(**kwargs)
    password_file = stack.state_dir / "etcd-password"
    password_file.write_text(PASSWORD + "\n")
    stack.overrides.update({"etcd.username": "root",
                            "etcd.password_file": str(password_file)})
    return stack


def stop_etcd(stack):
    ports = stack.etcd.client_port, stack.etcd.peer_port
    stack.etcd.stop()
    stack.etcd = None
    return ports


def lines(stack, pattern):
    return [line for line in stack.pool.log_text().splitlines() if re.search(pattern, line)]


def open_breaker(stack):
    """Writes until the breaker opens (each costs etcd's retry budget meanwhile)."""
    def opened():
        assert_problem(put(stack, "down/opening", 1), 503, "store_unavailable")
        return health(stack)["circuit_breaker"] == "open"
    wait_until(opened, timeout=20, interval=0, what="the circuit breaker to open")


# --------------------------------------------------------------------------
# The log while etcd is away

def test_etcd_down_and_up_logged_once_with_breaker_changes():
    with credentials_stack(processes=2) as stack:
        assert put(stack, "down/before", 1).status == 201
        endpoint = f"http://127.0.0.1:{stack.etcd.client_port}"
        ports = stop_etcd(stack)
        open_breaker(stack)
        wait_until(lambda: health(stack)["etcd"] == "down", timeout=10, what="etcd down")
        # More requests, reads and writes, across a few probes of the breaker.
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert get(stack, "down/before").status == 200
            assert put(stack, "down/during", 2).status == 503
            time.sleep(0.05)
        down = lines(stack, r"etcd down: ")
        assert len(down) == 1, down
        assert endpoint in down[0], down
        assert re.search(r"(refused|Couldn't connect|Failed to connect)", down[0]), down
        opened = lines(stack, r"etcd circuit breaker closed -> open after \d+ "
                              r"consecutive failures, the last: ")
        assert len(opened) == 1, opened
        assert endpoint in opened[0], opened
        assert lines(stack, r"etcd circuit breaker open -> half_open: probe 1 "), \
            stack.pool.log_text()[-3000:]
        assert lines(stack, r"etcd circuit breaker half_open -> open: probe 1 failed: "), \
            stack.pool.log_text()[-3000:]
        assert not lines(stack, r"etcd up: ")
        # etcd returns: one "up" line, and the breaker closes (once).
        stack.etcd = harness.Etcd(stack.workdir, *ports)
        wait_until(lambda: (lambda h: h["etcd"] == "up" and h["circuit_breaker"] == "closed")(
            health(stack)), timeout=10, what="etcd up and the breaker closed")
        wait_until(lambda: lines(stack, r"etcd up: "), timeout=5, what="the up line")
        time.sleep(1.5)     # anything logged twice would be there by now
        up = lines(stack, r"etcd up: ")
        assert len(up) == 1, up
        assert endpoint in up[0], up
        assert len(lines(stack, r"etcd down: ")) == 1
        closed = lines(stack, r"etcd circuit breaker (half_open|open) -> closed")
        assert len(closed) == 1, closed
        assert len(lines(stack, r"closed -> open")) == 1
        assert PASSWORD not in stack.pool.log_text()
        assert put(stack, "down/after", 3).status == 201


# --------------------------------------------------------------------------
# Fail fast while the breaker is open

def test_writes_and_forced_reads_fail_fast_while_the_breaker_is_open():
    with credentials_stack(processes=2) as stack:
        assert put(stack, "fast/kept", 1).status == 201
        assert stack.request("PUT", "/v1/flags/fast-flag", headers=JSON, body=json.dumps(
            {"value": True}).encode()).status == 201
        stop_etcd(stack)
        open_breaker(stack)
        calls = [
            ("PUT", "/v1/config/fast/new", {"value": 1}),
            ("DELETE", "/v1/config/fast/kept", None),
            ("GET", "/v1/config/fast/kept?force=true", None),
            ("PUT", "/v1/flags/fast-flag", {"value": False}),
            ("GET", "/v1/flags/fast-flag?force=true", None),
            ("DELETE", "/v1/flags/fast-flag", None),
            ("POST", "/v1/environments", {"name": "fast-env"}),
            ("POST", "/v1/tokens", {"name": "t", "scopes": ["config:read"]}),
        ]
        # Over several cool-downs: the caller that gets to probe etcd must be
        # quick too (one round of refused connections, no retries).
        slowest, deadline = (0.0, None), time.monotonic() + 3.5
        while time.monotonic() < deadline:
            for method, path, body in calls:
                started = time.monotonic()
                resp = stack.request(method, path, headers=JSON if body else None,
                                     body=json.dumps(body).encode() if body else None)
                took = time.monotonic() - started
                assert_problem(resp, 503, "store_unavailable")
                assert resp.headers.get("retry-after"), resp.headers
                slowest = max(slowest, (took, f"{method} {path}"))
        assert slowest[0] < 0.1, f"{slowest[1]} took {slowest[0] * 1000:.0f} ms"
        assert get(stack, "fast/kept").status == 200


# --------------------------------------------------------------------------
# Lost answers: a TCP proxy between dynconf and etcd

WRITES = (b"POST /v3/kv/put ", b"POST /v3/kv/txn ", b"POST /v3/kv/deleterange ")


class LosingProxy:
    """Forwards TCP to etcd; armed, it loses the answer to the next write.

    The armed write goes to etcd, the proxy waits for etcd's answer (so the
    write is committed) and hangs up on dynconf instead of passing it on. It
    loses one answer per arming: a write sent again would go through.
    """

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.armed = False
        self.lost = []          # the answers etcd gave that dynconf never saw
        self.writes = 0         # write requests forwarded
        self.sockets = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self):
        with self.lock:
            self.armed = True

    def _take_arm(self):
        with self.lock:
            armed, self.armed = self.armed, False
            return armed

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            state = {"lose": False}
            threading.Thread(target=self._to_etcd, args=(client, upstream, state),
                             daemon=True).start()
            threading.Thread(target=self._to_dynconf, args=(client, upstream, state),
                             daemon=True).start()

    def _to_etcd(self, client, upstream, state):
        try:
            while data := client.recv(65536):
                if data.startswith(WRITES):
                    with self.lock:
                        self.writes += 1
                    if self._take_arm():
                        state["lose"] = True
                upstream.sendall(data)
        except OSError:
            pass
        self._close(client, upstream)

    def _to_dynconf(self, client, upstream, state):
        try:
            while data := upstream.recv(65536):
                if state["lose"]:
                    # etcd answered: committed. Hang up without a word.
                    self.lost.append(data)
                    break
                client.sendall(data)
        except OSError:
            pass
        self._close(client, upstream)

    def _close(self, *socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        """Stop listening and drop every connection: dynconf is refused now."""
        self.listener.close()
        with self.lock:
            socks, self.sockets = list(self.sockets), set()
        self._close(*socks)


def test_lost_answer_is_write_outcome_unknown_and_refusal_is_store_unavailable():
    etcd_ports = harness.free_port(), harness.free_port()
    proxy = LosingProxy(etcd_ports[0])
    overrides = {"etcd.endpoints": f"http://127.0.0.1:{proxy.port}"}
    try:
        with harness.Stack(processes=1, etcd_ports=etcd_ports, overrides=overrides) as stack:
            # The responder's connection to etcd (through the proxy) is open and kept.
            assert put(stack, "lost/warm", 0).status == 201
            for key, headers in (("lost/plain", None), ("lost/created", {"If-None-Match": "*"})):
                proxy.arm()
                writes = proxy.writes
                resp = put(stack, key, {"v": key}, headers)
                doc = assert_problem(resp, 504, "write_outcome_unknown")
                assert "?force=true" in doc["detail"], doc
                assert "retry-after" not in resp.headers, resp.headers
                assert len(proxy.lost) >= 1, "the proxy lost no answer"
                # etcd committed it, once: dynconf did not send it again.
                kv = etcd_kv(stack, f"config/{key}")
                assert kv is not None and json.loads(kv["value"]) == {"v": key}, kv
                assert int(kv["version"]) == 1, kv
                assert proxy.writes == writes + 1, (proxy.writes, writes)
                # A forced read tells the client what became of it.
                forced = get(stack, key, "?force=true")
                assert forced.status == 200 and forced.json()["value"] == {"v": key}, forced
            # Refused connections: nothing reached etcd, and the answer says so.
            proxy.close()
            time.sleep(0.3)     # the kept connection is seen closed, not reused
            resp = put(stack, "lost/refused", 1)
            assert_problem(resp, 503, "store_unavailable")
            assert resp.headers.get("retry-after"), resp.headers
            assert etcd_kv(stack, "config/lost/refused") is None
    finally:
        proxy.close()


# --------------------------------------------------------------------------
# If-Match

def test_if_match_takes_only_entity_tags(stack):
    rev = put(stack, "im/x", 1).json()["revision"]
    for bad in (str(rev), f'"{rev}', f"W/{rev}", f'"{rev}" "{rev}"', "*, \"1\""):
        assert_problem(put(stack, "im/x", 2, {"If-Match": bad}), 400, "invalid_precondition")
        assert_problem(stack.request("DELETE", "/v1/config/im/x", headers={"If-Match": bad}),
                       400, "invalid_precondition")
    assert get(stack, "im/x").json()["revision"] == rev
    # Strong comparison: a weak tag, or a tag that is no revision, never matches.
    assert_problem(put(stack, "im/x", 3, {"If-Match": f'W/"{rev}"'}), 412, "revision_mismatch")
    assert_problem(put(stack, "im/x", 3, {"If-Match": '"abc"'}), 412, "revision_mismatch")
    assert_problem(put(stack, "im/absent", 3, {"If-Match": '"abc"'}), 404, "config_not_found")
    assert etcd_kv(stack, "config/im/absent") is None
    # A list matches when any of its tags does.
    listed = put(stack, "im/x", 4, {"If-Match": f'"{rev + 1000}", "{rev}"'})
    assert listed.status == 200, listed
    assert listed.json()["value"] == 4
    new_rev = listed.json()["revision"]
    assert_problem(put(stack, "im/x", 5, {"If-Match": f'"{rev}", W/"{new_rev}"'}),
                   412, "revision_mismatch")
    assert stack.request("DELETE", "/v1/config/im/x",
                         headers={"If-Match": f'"1", "{new_rev}"'}).status == 204
    # Flags share the parsing.
    flag = stack.request("PUT", "/v1/flags/im-flag", headers=JSON,
                         body=json.dumps({"value": True}).encode())
    assert flag.status == 201, flag
    assert_problem(stack.request("PUT", "/v1/flags/im-flag", headers={**JSON, "If-Match": str(
        flag.json()["revision"])}, body=json.dumps({"value": False}).encode()),
        400, "invalid_precondition")


# --------------------------------------------------------------------------
# updated_at

def test_one_revision_one_updated_at(stack):
    written = put(stack, "when/x", {"a": 1}).json()
    # Timestamps have whole seconds: a read time would differ by now.
    time.sleep(1.2)
    replica = get(stack, "when/x").json()
    forced = get(stack, "when/x", "?force=true")
    assert forced.headers["x-cache"] == "bypass", forced.headers
    listed = stack.request("GET", "/v1/config?prefix=when/").json()["items"]
    assert replica["revision"] == forced.json()["revision"] == written["revision"]
    assert forced.json()["updated_at"] == written["updated_at"], (forced.json(), written)
    assert replica["updated_at"] == written["updated_at"], (replica, written)
    assert [i["updated_at"] for i in listed] == [written["updated_at"]], listed
    # A write straight into etcd: the forced read and the replica agree as well.
    stack.etcdctl("put", "/dynconf/config/when/outside", '"o"')
    time.sleep(1.2)
    forced = get(stack, "when/outside", "?force=true").json()
    wait_until(lambda: get(stack, "when/outside").status == 200, timeout=2,
               what="the outside write in the replica")
    assert get(stack, "when/outside").json()["updated_at"] == forced["updated_at"]
