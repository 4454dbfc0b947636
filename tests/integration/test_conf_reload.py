"""A reload (SIGHUP) and the settings that need a restart (src/base/conf.c,
conf_keep_restart_only; fcgi/pool.c, reload): one warning per such setting
that changed, the running value kept, the pool serving throughout, and the
master still removing at exit the socket and pidfile it made, with the
command line's -p (and -u, -g) kept across the reload; and, under
spawn-fcgi, responders that reload in place taking the new JWT keys.

Tests that end a pool start their own stack; the others share one.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import time

import harness
from harness import Load, Stack, wait_until

WARNING = re.compile(r"(\S+) changed from (.*) to (.*); it takes effect at the next restart")


def module_fixture():
    with Stack(processes=2) as stack:
        yield stack


def log_since(pool, offset):
    return pool.log_text()[offset:]


def reload_and_wait(pool, pattern=r"configuration reloaded"):
    """SIGHUP the master; the log from just before it, once pattern shows."""
    offset = len(pool.log_text())
    pool.signal(signal.SIGHUP)
    wait_until(lambda: re.search(pattern, log_since(pool, offset)), timeout=10,
               what=f"/{pattern}/ after the SIGHUP")
    return log_since(pool, offset)


def test_changed_restart_settings_warn_and_the_pool_keeps_serving(stack):
    pool = stack.pool
    old_listen = str(pool.socket_path)
    new_listen = str(stack.workdir / "moved.sock")
    inode = harness.listening_inode(pool.socket_path)
    load = Load(stack, max_seconds=60)
    load.start()

    def served_on(at_least):
        """Requests keep going through while (and after) the pool reloads."""
        wait_until(lambda: load.count() >= at_least, timeout=20,
                   what=f"{at_least} requests through the reloading pool")
        return load.count()

    served = 0
    try:
        served = served_on(20)
        pool.write_config(processes=3, server__listen=new_listen, server__backlog=64)
        text = reload_and_wait(pool, r"configuration reloaded: 3 responders \(were 2\)")
        # Once each, and for nothing else.
        assert sorted(WARNING.findall(text)) == sorted([
            ("server.backlog", "4096", "64"),
            ("server.listen", old_listen, new_listen),
        ]), text
        # The setting a reload applies did apply: three new responders.
        wait_until(lambda: len(pool.responder_pids()) == 3, timeout=10, what="3 responders")
        # Still the socket bound at the start; nothing at the new path.
        assert harness.listening_inode(pool.socket_path) == inode
        assert not (stack.workdir / "moved.sock").exists()
        assert stack.fcgi("GET", "/v1/health").status == 200
        served = served_on(served + 20)
    finally:
        # Back as it was, so that the module's stack is as it started.
        try:
            for dotted in ("server.listen", "server.backlog"):
                pool.overrides.pop(dotted, None)
            pool.write_config(processes=2)
            text = reload_and_wait(pool, r"configuration reloaded: 2 responders \(were 3\)")
            served_on(served + 20)
        finally:
            load.stop()
    assert not WARNING.search(text), f"warned with nothing changed: {text}"
    assert not load.failures(), f"{len(load.failures())} of {load.count()} failed: {load.failures()[:3]}"


def test_stop_after_a_reload_removes_the_bound_socket_and_nothing_else():
    with Stack(processes=1, web=(), etcd=False) as stack:
        pool = stack.pool
        precious = stack.workdir / "precious"
        precious.write_text("not a socket\n")
        pool.write_config(server__listen=precious)
        text = reload_and_wait(pool)
        assert WARNING.findall(text) == [("server.listen", str(pool.socket_path),
                                          str(precious))], text
        assert stack.fcgi("GET", "/v1/health").status == 200
        assert pool.stop() == 0
        assert precious.exists() and precious.read_text() == "not a socket\n", \
            "the master removed the path of the new setting, not its socket"
        assert not pool.socket_path.exists(), "the bound socket was left behind"


def test_command_line_values_survive_a_reload():
    """-p (and, as root, the unit's -u and -g) win over the file at a reload
    too: no warning that they changed, and the pidfile is removed at exit."""
    stack = Stack(processes=1, web=(), etcd=False,
                  **({"user": "nobody", "group": "nogroup"} if harness.is_root() else {}))
    conf_path = stack.workdir / "dynconf.conf"
    # In the state directory, which the dropped user may write (to remove it).
    pidfile = stack.state_dir / "dynconf.pid"
    if harness.is_root():
        command = harness.systemd_exec_start(conf_path, "nobody", "nogroup")
    else:
        command = [harness.dynconf_binary(), "-f", "-c", conf_path]
    stack.pool_command = command + ["-p", pidfile]
    with stack:
        pool = stack.pool
        assert int(pidfile.read_text()) == pool.master_pid
        pool.write_config(processes=2)
        text = reload_and_wait(pool, r"configuration reloaded: 2 responders")
        assert not WARNING.search(text), f"a command-line value counted as changed: {text}"
        assert stack.fcgi("GET", "/v1/health").status == 200
        assert pool.stop() == 0
        assert not pidfile.exists(), "the pidfile given by -p was left behind"


def hs256_token(secret, scope="flags:read"):
    def b64url(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "reload", "iat": now, "exp": now + 600,
                                 "scope": scope}).encode())
    sig = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


def test_spawn_fcgi_responders_take_new_jwt_keys_on_reload():
    """Under spawn-fcgi each responder re-reads the configuration itself on
    SIGHUP: a JWT secret replaced there must stop verifying at once (the
    keys, loaded on first use, were kept until the responder exited)."""
    stack = Stack(processes=2, backend="spawn-fcgi", web=(), etcd=False)
    secrets = {}
    for name in ("old", "new"):
        secrets[name] = f"{name}-reload-test-secret-0123456789abcdef"
        path = stack.workdir / f"{name}.secret"
        path.write_text(secrets[name] + "\n")
        os.chmod(path, 0o644)
    stack.overrides.update({"auth.mode": "on",
                            "auth.jwt_hs256_secret_file": stack.workdir / "old.secret"})
    with stack:
        spawn = stack.pool

        def status(secret):
            auth = {"Authorization": "Bearer " + hs256_token(secret)}
            return stack.fcgi("GET", "/v1/flags", headers=auth).status

        assert status(secrets["old"]) != 401
        assert status(secrets["new"]) == 401
        offset = len(spawn.log_path.read_text(errors="replace"))
        spawn.config.write_config(auth__jwt_hs256_secret_file=stack.workdir / "new.secret")
        os.kill(spawn.proc.pid, signal.SIGHUP)
        # Every responder, readers and writers, says it reloaded.
        wait_until(lambda: spawn.log_path.read_text(errors="replace")[offset:]
                   .count("configuration reloaded from") == 4, timeout=10,
                   what="the 4 responders to reload")
        assert status(secrets["old"]) == 401, "a replaced JWT secret still verifies"
        assert status(secrets["new"]) != 401
