"""The pool master (fcgi/pool.c) under signals and failures, the command line
(-t, -u) and the shipped systemd unit.

Tests that end a pool start their own stack; the others share one.
"""

import os
import pwd
import re
import shutil
import signal
import subprocess
import time

import harness
from harness import Load, Stack, wait_until

JSON = {"Content-Type": "application/json"}


def module_fixture():
    with Stack(processes=2) as stack:
        yield stack


def wait_for_responders(pool, count, exclude=(), timeout=5.0):
    """Wait until the pool has exactly count responders, none of them in exclude."""
    def ready():
        pids = pool.responder_pids()
        return pids if len(pids) == count and not set(pids) & set(exclude) else None
    return wait_until(ready, timeout=timeout, interval=0.01,
                      what=f"{count} responders other than {sorted(exclude)}")


def settle(pool, count):
    """Responders up and each older than the pool's crash-loop threshold (1 s)."""
    wait_for_responders(pool, count)
    time.sleep(1.1)
    return wait_for_responders(pool, count)


# -- supervision

def test_master_runs_the_configured_number_of_responders(stack):
    pids = wait_for_responders(stack.pool, 2)
    for pid in pids:
        assert harness.proc_stat(pid)[1] == stack.pool.master_pid


def test_killed_responder_is_replaced_at_once_under_load(stack):
    before = settle(stack.pool, 2)
    load = Load(stack, max_seconds=30)
    load.start()
    try:
        time.sleep(0.5)
        victim = before[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        after = wait_for_responders(stack.pool, 2, exclude=[victim], timeout=1.0)
        replaced_at = time.monotonic()
        assert replaced_at - killed_at < 1.0
        assert before[1] in after, "the other responder must be left alone"
        time.sleep(1.0)
    finally:
        load.stop()
    failures = load.failures()
    assert load.count() > 100, f"too little load to judge: {load.count()} requests"
    assert load.success_ratio() >= 0.99, f"{len(failures)} of {load.count()} failed: {failures[:3]}"
    # Only the request in flight on the killed process may fail.
    assert len(failures) <= 1, failures
    late = load.failures(since=replaced_at)
    assert not late, f"failures after the replacement: {late[:3]}"
    stack.pool.wait_for_log(rf"killed by signal 9")


def test_sighup_reload_changes_the_pool_without_failures(stack):
    old = settle(stack.pool, 2)
    load = Load(stack, max_seconds=60)
    load.start()
    try:
        time.sleep(0.3)
        stack.pool.write_config(processes=3)
        stack.pool.signal(signal.SIGHUP)
        new = wait_for_responders(stack.pool, 3, exclude=old, timeout=10)
        # The old generation goes away once it finishes its request.
        wait_until(lambda: not any(harness.pid_alive(p) for p in old), timeout=10,
                   what="the old responders to exit")
        time.sleep(0.5)
        # And back, so that the module's stack is as it was.
        stack.pool.write_config(processes=2)
        stack.pool.signal(signal.SIGHUP)
        wait_for_responders(stack.pool, 2, exclude=new, timeout=10)
        time.sleep(0.5)
    finally:
        load.stop()
    stack.pool.wait_for_log(r"configuration reloaded: 3 responders \(were 2\)")
    stack.pool.wait_for_log(r"configuration reloaded: 2 responders \(were 3\)")
    assert load.count() > 100, f"too little load to judge: {load.count()} requests"
    assert not load.failures(), f"{len(load.failures())} of {load.count()} failed: {load.failures()[:3]}"


def test_rapid_sighups_keep_the_pool_up():
    with Stack(processes=2, web=()) as stack:
        for i in range(30):
            stack.pool.write_config(processes=2 + i % 2)
            stack.pool.signal(signal.SIGHUP)
            stack.pool.signal(signal.SIGHUP)
            time.sleep(0.02)
            assert stack.pool.proc.alive(), f"the master stopped after {i + 1} double SIGHUPs"
        time.sleep(0.5)
        assert stack.pool.proc.alive(), "the master stopped after the SIGHUPs"
        assert "stopping" not in stack.pool.log_text(), "the master began to stop on its own"
        assert stack.fcgi("GET", "/v1/health").status == 200


def test_bad_config_on_sighup_keeps_the_running_one(stack):
    old = settle(stack.pool, 2)
    good = stack.pool.conf_path.read_text()
    try:
        stack.pool.conf_path.write_text(good + "\n[server]\nno_such_setting = 1\n")
        stack.pool.signal(signal.SIGHUP)
        stack.pool.wait_for_log(r"reload failed, keeping the running configuration")
        assert stack.pool.responder_pids() == old
        assert stack.request("GET", "/v1/health").status == 200
    finally:
        stack.pool.conf_path.write_text(good)


def test_sigusr1_reopens_the_log_file(stack):
    log = stack.pool.log_path
    rotated = log.with_name(log.name + ".1")
    children = set(stack.pool.child_pids())
    log.rename(rotated)
    stack.pool.signal(signal.SIGUSR1)
    # The master passes the signal on; every process notes its reopening in
    # the new file (idle responders wake for it; a busy one after its request).

    def all_reopened():
        stack.request("GET", "/v1/health")
        text = log.read_text() if log.exists() else ""
        pids = set(re.findall(r"\[(\d+)\] log file reopened", text))
        return pids >= {str(p) for p in stack.pool.responder_pids()}
    wait_until(all_reopened, timeout=5, interval=0.1, what="every responder to reopen its log file")
    # From now on nothing goes to the old file.
    stack.request("GET", "/v1/health", headers={"X-Request-Id": "after-rotation"})
    stack.pool.wait_for_log(r"request id=after-rotation ")
    assert "after-rotation" not in rotated.read_text()
    # Nobody died of it, the watcher included: no child had to be replaced
    # (children retiring from an earlier reload may have left meanwhile).
    time.sleep(0.5)
    assert not set(stack.pool.child_pids()) - children, (children, stack.pool.child_pids())
    assert f"killed by signal {int(signal.SIGUSR1)}" not in stack.pool.log_text() + rotated.read_text()


def test_crash_loop_backs_off(stack):
    """Responders that die right after start are restarted ever more slowly."""
    survivor = settle(stack.pool, 2)[1]
    gaps, victim = [], None
    for _ in range(4):
        victim = next(p for p in stack.pool.responder_pids() if p != survivor)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for_responders(stack.pool, 2, exclude=[victim], timeout=5)
        gaps.append(time.monotonic() - killed_at)
    stack.pool.wait_for_log(r"died [0-9.]+ s after it started; backing off its restarts")
    # The first death counts only if the slot was young: 0.1, 0.2, 0.4 s then.
    assert gaps[-1] >= 0.35, f"no backoff: replacement delays {gaps}"
    assert gaps[-1] > gaps[1] > gaps[0] * 0.9, f"delays do not grow: {gaps}"
    # Meanwhile the other responder served on.
    assert survivor in stack.pool.responder_pids()
    assert stack.request("GET", "/v1/health").status == 200
    settle(stack.pool, 2)


# -- stopping

def test_sigterm_stops_within_shutdown_timeout_and_removes_the_socket():
    with Stack(processes=2, web=(), overrides={"server.shutdown_timeout": 5}) as stack:
        pool = stack.pool
        children = pool.child_pids()
        assert stack.socket_path.exists()
        started = time.monotonic()
        pool.signal(signal.SIGTERM)
        status = pool.proc.wait(5 + 2)
        took = time.monotonic() - started
        assert status == 0, f"master exit status {status} after {took:.1f} s"
        assert took < 5, f"an idle pool took {took:.1f} s to stop"
        assert not stack.socket_path.exists(), "socket left behind"
        assert not any(harness.pid_alive(p) for p in children), "children left behind"
        assert "stopped" in pool.log_text()


def test_sigterm_lets_the_request_in_flight_finish():
    with Stack(processes=1, web=("nginx",), overrides={"server.shutdown_timeout": 10}) as stack:
        harness.require_body_route(stack)
        responder = stack.pool.responder_pids()[0]
        body = b'{"value":{"note":"' + b"x" * 1000 + b'"}}'
        params = harness.cgi_params("PUT", "/v1/config/inflight", body=body,
                                    content_type="application/json")
        fds_before = set(harness.open_fds(responder).values())
        with harness.FcgiConnection(stack.socket_path, timeout=15) as conn:
            conn.begin(params)
            conn.send_stdin(body[:len(body) // 2])
            # The responder has accepted once it holds one more socket.
            wait_until(lambda: set(harness.open_fds(responder).values()) - fds_before,
                       timeout=5, what="the responder to accept the request")
            stack.pool.signal(signal.SIGTERM)
            time.sleep(0.5)
            assert harness.pid_alive(responder), "the responder quit with a request in flight"
            assert stack.pool.proc.alive(), "the master quit with a request in flight"
            conn.send_stdin(body[len(body) // 2:], end=True)
            resp = conn.read_response()
        assert resp.has_status_line, resp.raw[:200]
        assert resp.status < 500, f"{resp.status}: {resp.body[:300]!r}"
        assert resp.protocol_status == 0, resp.protocol_status
        assert stack.pool.proc.wait(10) == 0, "the master did not stop after the request"
        assert not harness.pid_alive(responder)


# -- command line

def test_check_option_prints_the_settings(stack):
    done = subprocess.run([harness.dynconf_binary(), "-t", "-c", stack.pool.conf_path],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    settings = dict(line.split(" = ", 1) for line in done.stdout.splitlines() if " = " in line)
    assert settings["server.processes"] == "2", settings
    assert settings["server.listen"] == str(stack.socket_path), settings
    assert settings["etcd.endpoints"] == stack.etcd.url, settings
    assert settings["auth.mode"] == "off", settings
    assert "configuration OK" in done.stderr, done.stderr


def test_check_option_rejects_a_bad_config(stack):
    bad = stack.workdir / "bad.conf"
    bad.write_text("[server]\nprocesses = many\n")
    done = subprocess.run([harness.dynconf_binary(), "-t", "-c", bad],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode != 0
    assert f"{bad}:2" in done.stderr and "server.processes" in done.stderr, done.stderr


def test_environment_overrides_the_file(stack):
    env = dict(os.environ, DYNCONF_SERVER_PROCESSES="7", DYNCONF_LOG_LEVEL="debug")
    done = subprocess.run([harness.dynconf_binary(), "-t", "-c", stack.pool.conf_path],
                          capture_output=True, text=True, timeout=10, env=env)
    assert done.returncode == 0, done.stderr
    assert "server.processes = 7" in done.stdout and "log.level = debug" in done.stdout


def uid_of(pid):
    """The real, effective, saved and filesystem uids of a process."""
    return {int(u) for u in harness.proc_status(pid)["Uid"].split()}


def test_systemd_execstart_drops_to_the_user():
    """The unit's ExecStart, run as root: master and responders end up as the user."""
    if not harness.is_root():
        raise harness.SkipTest("needs root to drop privileges")
    user, group = "nobody", "nogroup"
    stack = Stack(processes=2, user=user, group=group)
    stack.pool_command = harness.systemd_exec_start(stack.workdir / "dynconf.conf", user, group)
    with stack:
        nobody = pwd.getpwnam(user).pw_uid
        pool = stack.pool
        assert uid_of(pool.master_pid) == {nobody}, harness.proc_status(pool.master_pid)["Uid"]
        for pid in pool.child_pids():
            assert uid_of(pid) == {nobody}, (pid, harness.proc_status(pid)["Uid"])
        assert stack.request("GET", "/v1/health").status == 200
        resp = stack.request("PUT", "/v1/config/privdrop/check", body=b'{"value":true}',
                             headers=JSON)
        assert resp.status in (200, 201, 404, 405), resp


def test_log_file_survives_a_reload_after_dropping_root():
    if not harness.is_root():
        raise harness.SkipTest("needs root to drop privileges")
    with Stack(processes=1, user="nobody", group="nogroup",
               overrides={"server.user": "nobody", "server.group": "nogroup"}) as stack:
        stderr = stack.workdir / "dynconf-fcgi.out"
        stack.pool.signal(signal.SIGHUP)
        # The line lands in the log file, or on stderr when the file was lost.
        wait_until(lambda: "configuration reloaded" in stack.pool.log_text() + stderr.read_text(),
                   timeout=5, what="the reload")
        assert "cannot open log file" not in stderr.read_text(), \
            "the master lost its log file on reload"
        assert "configuration reloaded" in stack.pool.log_text()


def test_systemd_unit_is_valid():
    unit = harness.systemd_unit()
    assert unit["Type"] == ["simple"]
    start = unit["ExecStart"][0].split()
    assert "-f" in start, "the master must stay in the foreground under systemd"
    assert unit["ExecReload"][0].split()[-2:] == ["-HUP", "$MAINPID"], unit["ExecReload"]
    assert unit["RuntimeDirectory"] == ["dynconf"] and unit["StateDirectory"] == ["dynconf"]
    # The socket path ships as /run/dynconf/dynconf.sock: RuntimeDirectory makes /run/dynconf.
    if shutil.which("systemd-analyze") is None:
        raise harness.SkipTest("systemd-analyze not installed; static checks passed")
    with Stack(backend=None, web=(), etcd=False) as scratch:
        copy = scratch.workdir / "dynconf.service"
        copy.write_text(harness.template(
            (harness.CONTRIB / "systemd/dynconf.service").read_text(),
            {"/usr/sbin/dynconf-fcgi": harness.dynconf_binary()}))
        done = subprocess.run(["systemd-analyze", "verify", "--man=no", copy],
                              capture_output=True, text=True, timeout=60)
        # Without a running systemd (containers, CI) verify may not work at all.
        if done.returncode != 0 and "dynconf.service" not in done.stderr:
            raise harness.SkipTest(f"systemd-analyze verify unusable here: {done.stderr.strip()[:200]}")
        assert done.returncode == 0, done.stderr
