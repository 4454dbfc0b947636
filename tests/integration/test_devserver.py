"""The development stack that contrib/dev-server starts (harness.py --dev,
after dev-server has installed and built): authentication on, an admin
token made by dynconfctl in admin.token, stack.env for scripts, one stack
per directory, and a clean stop on SIGTERM. Run in a temporary directory
(DYNCONF_DEV_DIR), never the developer's .dev.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness import wait_until


def start_dev(dev, port):
    env = dict(os.environ, DYNCONF_DEV_DIR=str(dev))
    return subprocess.Popen([sys.executable, str(harness.REPO / "tests/integration/harness.py"),
                             "--dev", "--port", str(port), "--processes", "1"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def test_dev_stack_runs_with_auth_and_an_admin_token():
    dev = Path(tempfile.mkdtemp(prefix="dynconf-dev."))
    port = harness.free_port()
    proc = start_dev(dev, port)
    try:
        wait_until(lambda: (dev / "admin.token").exists() and (dev / "stack.env").exists()
                   and proc.poll() is None, timeout=60, what="the dev stack")
        token = (dev / "admin.token").read_text().strip()
        assert token.startswith("dct_"), "admin.token holds no API token"
        assert oct((dev / "admin.token").stat().st_mode & 0o777) == "0o600"
        env = (dev / "stack.env").read_text()
        assert f"DYNCONF_URL=http://127.0.0.1:{port}" in env, env
        assert "DYNCONF_TOKEN_FILE=" in env and "ETCDCTL_ENDPOINTS=" in env, env
        health = harness.http_request(port, "GET", "/v1/health")
        assert health.status == 200, health
        harness.assert_problem(harness.http_request(port, "GET", "/v1/tokens"), 401,
                               "unauthenticated")
        listed = harness.http_request(port, "GET", "/v1/tokens",
                                      headers={"Authorization": f"Bearer {token}"})
        assert listed.status == 200, listed
        # A second stack on the same directory says so instead of clashing.
        second = start_dev(dev, harness.free_port())
        out, _ = second.communicate(timeout=30)
        assert second.returncode != 0 and b"already running" in out, out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, proc.stdout.read()
    time.sleep(0.5)
    refused = False
    try:
        harness.http_request(port, "GET", "/v1/health", timeout=2)
    except OSError:
        refused = True
    assert refused, "the dev stack still answers after SIGTERM"
