"""The replica and the store when etcd misbehaves (API.md sections 1, 3, 13):
reads keep answering from the replica while etcd is down, writes fail with
503 and leave no trace, everything catches up when etcd returns; a cold node
never answers a false 404; compaction forces a clean resync; two pools with
their own replicas converge.

Each test starts its own stack, since each one stops etcd or the pool.
"""

import base64
import json
import re
import sqlite3
import time
import urllib.request

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}


def put(stack, key, value, via="nginx"):
    return stack.request("PUT", f"/v1/config/{key}", body=json.dumps({"value": value}).encode(),
                         headers=JSON, via=via)


def get(stack, key, query=""):
    return stack.request("GET", f"/v1/config/{key}{query}")


def stop_etcd(stack):
    ports = stack.etcd.client_port, stack.etcd.peer_port
    stack.etcd.stop()
    stack.etcd = None
    return ports


def start_etcd(stack, ports):
    stack.etcd = harness.Etcd(stack.workdir, *ports)


def health(stack):
    return stack.request("GET", "/v1/health").json()


def test_etcd_down_reads_stale_writes_refused_then_recovery():
    with harness.Stack(processes=2) as stack:
        assert put(stack, "off/kept", "before").status == 201
        ports = stop_etcd(stack)
        wait_until(lambda: health(stack)["etcd"] == "down", timeout=5, what="etcd down")
        # Reads: every one answers from the replica, marked stale.
        for _ in range(50):
            resp = get(stack, "off/kept")
            assert resp.status == 200, resp
            assert resp.headers["x-cache"] == "stale", resp.headers
            assert resp.json()["value"] == "before"
        listed = stack.request("GET", "/v1/config?prefix=off/")
        assert listed.status == 200 and listed.json()["total"] == 1, listed
        assert stack.request("GET", "/v1/ready").status == 200
        # Writes: 503 with Retry-After, quickly, and nothing half-applied.
        for key in ("off/new", "off/kept"):
            started = time.monotonic()
            resp = put(stack, key, "during")
            assert time.monotonic() - started < 3, (key, time.monotonic() - started)
            doc = assert_problem(resp, 503, "store_unavailable")
            assert resp.headers.get("retry-after"), resp.headers
            assert doc["status"] == 503
        delete = stack.request("DELETE", "/v1/config/off/kept")
        assert_problem(delete, 503, "store_unavailable")
        assert get(stack, "off/new").status == 404
        assert get(stack, "off/kept").json()["value"] == "before"
        assert_problem(get(stack, "off/kept", "?force=true"), 503, "store_unavailable")
        # etcd returns: writes resume and outside changes arrive, no restart.
        start_etcd(stack, ports)
        assert stack.etcdctl("get", "/dynconf/config/off/new").strip() == ""
        assert json.loads(stack.etcdctl("get", "--print-value-only",
                                        "/dynconf/config/off/kept")) == "before"
        wait_until(lambda: put(stack, "off/after", 1).status == 201, timeout=10,
                   what="writes to resume")
        stack.etcdctl("put", "/dynconf/config/off/outside", '"o"')
        wait_until(lambda: get(stack, "off/outside").status == 200, timeout=2,
                   what="an etcdctl write to reach the replica")
        wait_until(lambda: health(stack)["etcd"] == "up", timeout=5, what="etcd up")
        assert get(stack, "off/kept").headers["x-cache"] == "hit"


def test_cold_node_with_etcd_down_never_answers_404():
    ports = harness.free_port(), harness.free_port()
    overrides = {"etcd.endpoints": f"http://127.0.0.1:{ports[0]}"}
    with harness.Stack(processes=1, backend=None, web=(), etcd_ports=ports,
                       overrides=overrides) as stack:
        stop_etcd(stack)
        stack.backend_name = "pool"
        stack.start_backend()
        stack.nginx = harness.Nginx(stack)
        wait_until(lambda: stack.request("GET", "/v1/health").status == 200, what="health")
        ready = stack.request("GET", "/v1/ready")
        assert_problem(ready, 503, "not_ready")
        assert_problem(get(stack, "any/key"), 503, "store_unavailable")
        assert_problem(stack.request("GET", "/v1/config"), 503, "store_unavailable")
        start_etcd(stack, ports)
        wait_until(lambda: stack.request("GET", "/v1/ready").status == 200, timeout=10,
                   what="ready once etcd is back")
        assert_problem(get(stack, "any/key"), 404, "config_not_found")


def test_compaction_past_the_watcher_forces_a_clean_resync():
    with harness.Stack(processes=1) as stack:
        assert put(stack, "compact/stays", 1).status == 201
        assert put(stack, "compact/goes", 1).status == 201
        stack.pool.stop()
        stack.pool = None
        # While the watcher is away: change, delete, and compact it all away.
        stack.etcdctl("put", "/dynconf/config/compact/new", "2")
        stack.etcdctl("del", "/dynconf/config/compact/goes")
        stack.etcdctl("put", "/dynconf/config/compact/stays", "3")
        revision = json.loads(stack.etcdctl("get", "/", "-w", "json"))["header"]["revision"]
        stack.etcdctl("compaction", revision)
        stack.start_backend()
        wait_until(lambda: get(stack, "compact/new").status == 200, timeout=5,
                   what="the resync")
        assert get(stack, "compact/goes").status == 404
        assert get(stack, "compact/stays").json()["value"] == 3
        text = stack.request("GET", "/v1/metrics").body.decode()
        resyncs = [line for line in text.splitlines()
                   if line.startswith("dynconf_replica_resyncs_total ")]
        assert resyncs and int(resyncs[0].split()[1]) >= 1, resyncs
        assert "compacted" in stack.pool.log_text()


def test_restart_keeps_serving_from_the_replica_file():
    with harness.Stack(processes=1) as stack:
        assert put(stack, "restart/x", "v").status == 201
        stack.pool.stop()
        stack.pool = None
        stop_etcd(stack)
        stack.start_backend()
        assert stack.request("GET", "/v1/ready").status == 200
        resp = get(stack, "restart/x")
        assert resp.status == 200 and resp.headers["x-cache"] == "stale", resp
        assert resp.json()["value"] == "v"


def test_two_pools_with_their_own_replicas_converge():
    with harness.Stack(processes=1) as first:
        overrides = {"etcd.endpoints": first.etcd.url}
        with harness.Stack(processes=1, etcd=False, overrides=overrides) as second:
            assert put(first, "two/a", 1).status == 201
            wait_until(lambda: get(second, "two/a").status == 200, timeout=1,
                       what="the first pool's write on the second")
            assert put(second, "two/b", 2).status == 201
            wait_until(lambda: get(first, "two/b").status == 200, timeout=1,
                       what="the second pool's write on the first")
            first.etcdctl("put", "/dynconf/config/two/c", "3")
            for stack in (first, second):
                wait_until(lambda: get(stack, "two/c").status == 200, timeout=1,
                           what="an etcdctl write on both")
            first.etcdctl("del", "--prefix", "/dynconf/config/two/")
            for stack in (first, second):
                wait_until(lambda: stack.request("GET", "/v1/config?prefix=two/")
                           .json()["total"] == 0, timeout=1, what="deletes on both")


def test_a_snapshot_holds_every_key_whatever_its_first_byte():
    """Snapshots are read in segments, by the byte after the prefix, by
    several threads at once (store/snapshot_fetch.c): keys on each side of
    every cut, and below and above the letters, all reach a cold node's
    replica, with values and revisions as etcd has them."""
    firsts = ["", "!", "0", "A", "Z", "_", "a", "az", "b", "by", "c", "m", "y", "yz",
              "z", "zz", "{", "~", "\u00e9", "\u4e2d"]
    with harness.Stack(processes=1) as first:
        for i, lead in enumerate(firsts):
            first.etcdctl("put", f"/dynconf/{lead}seg{i}", f"v{i}")
        assert put(first, "seg/x", 1).status == 201
        expected = {}
        out = first.etcdctl("get", "--prefix", "/dynconf/", "-w", "json")
        for kv in json.loads(out)["kvs"]:
            key = base64.b64decode(kv["key"]).decode()
            expected[key[len("/dynconf/"):]] = (base64.b64decode(kv.get("value", "")),
                                                int(kv["mod_revision"]))
        assert len(expected) >= len(firsts) + 1
        overrides = {"etcd.endpoints": first.etcd.url}
        with harness.Stack(processes=1, etcd=False, overrides=overrides) as cold:
            loaded = wait_until(lambda: re.search(r"snapshot loaded: (\d+) keys",
                                                  cold.pool.log_text()),
                                timeout=30, what="the cold node's snapshot")
            db = sqlite3.connect(f"file:{cold.state_dir / 'replica.db'}?mode=ro", uri=True)
            try:
                rows = {key: (bytes(value), mod) for key, value, mod in db.execute(
                    "SELECT key, value, mod_revision FROM kv WHERE deleted = 0")}
            finally:
                db.close()
            # The audit records are the audit table's, not the key table's (§14).
            audit = {k for k in expected if k.startswith("audit/")}
            assert int(loaded.group(1)) == len(expected), (loaded.group(0), len(expected))
            assert rows == {k: v for k, v in expected.items() if k not in audit}
            assert get(cold, "seg/x").status == 200


def test_a_snapshot_of_large_values_comes_in_bounded_pages():
    """A keyspace of large values reaches a cold node in pages of about
    8 MB (store/snapshot_fetch.h), not as one page of everything: 24
    values of 700 KB under one first byte, 16.8 MB, came as a single page
    before."""
    value_size, count = 700 * 1024, 24
    with harness.Stack(processes=1) as first:
        for i in range(count):
            text = json.dumps("%02d" % i + "x" * (value_size - 4))
            body = json.dumps({"key": base64.b64encode(f"/dynconf/config/big/{i:02d}".encode()).decode(),
                               "value": base64.b64encode(text.encode()).decode()}).encode()
            req = urllib.request.Request(first.etcd.url + "/v3/kv/put", data=body, method="POST")
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 200
        overrides = {"etcd.endpoints": first.etcd.url}
        with harness.Stack(processes=1, etcd=False, overrides=overrides) as cold:
            loaded = wait_until(lambda: re.search(
                r"snapshot loaded: (\d+) keys .*; (\d+) pages, the largest (\d+) KB",
                cold.pool.log_text()), timeout=60, what="the cold node's snapshot")
            largest_kb = int(loaded.group(3))
            assert largest_kb <= 8 * 1024 + value_size // 1024, loaded.group(0)
            assert largest_kb >= value_size // 1024, loaded.group(0)
            assert int(loaded.group(1)) >= count, loaded.group(0)
            for i in (0, count - 1):
                r = get(cold, f"big/{i:02d}")
                assert r.status == 200
                assert r.json()["value"].startswith("%02d" % i)
                assert len(r.json()["value"]) == value_size - 2


def test_watcher_mode_keeps_spawn_fcgi_responders_current():
    # contrib/spawn-fcgi/dynconf-spawn runs dynconf-fcgi --watcher beside them.
    with harness.Stack(processes=2, backend="spawn-fcgi") as stack:
        wait_until(lambda: stack.request("GET", "/v1/ready").status == 200, timeout=5,
                   what="the watcher's snapshot")
        stack.etcdctl("put", "/dynconf/config/spawned/x", "42")
        resp = wait_until(lambda: (lambda r: r if r.status == 200 else None)(
            get(stack, "spawned/x")), timeout=1, what="the change through spawn-fcgi")
        assert resp.json()["value"] == 42 and resp.headers["x-cache"] == "hit", resp
        assert health(stack)["etcd"] == "up"


def test_watcher_systemd_unit_is_valid():
    unit = (harness.CONTRIB / "systemd/dynconf-watcher.service").read_text()
    assert "ExecStart=/usr/sbin/dynconf-fcgi --watcher -c /etc/dynconf/dynconf.conf" in unit
    if harness.shutil.which("systemd-analyze") is None:
        raise harness.SkipTest("systemd-analyze not installed")
    with harness.Stack(backend=None, web=(), etcd=False) as scratch:
        copy = scratch.workdir / "dynconf-watcher.service"
        copy.write_text(harness.template(unit, {
            "/usr/sbin/dynconf-fcgi": str(harness.dynconf_binary()),
            "User=dynconf": "User=daemon", "Group=dynconf": "Group=daemon",
        }, "dynconf-watcher.service"))
        done = harness.subprocess.run(["systemd-analyze", "verify", "--man=no", copy],
                                      capture_output=True, text=True, timeout=60)
        if done.returncode != 0 and "dynconf-watcher.service" not in done.stderr:
            raise harness.SkipTest(f"systemd-analyze verify unusable here: {done.stderr[:200]}")
        assert done.returncode == 0, done.stderr
