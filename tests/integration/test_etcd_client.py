"""The etcd client (src/etcd*.c, src/breaker.c) against real etcds.

The checks themselves are C (tests/etcd/check_etcd, a Check program): KV,
txn, leases, watch, compaction, failover, deadlines, the breaker, auth.
This module gives it what it needs, one plain etcd, one with auth enabled
(user root with a random password) and one that takes only TLS with a
client certificate (a throw-away CA made with openssl), and asserts that
it passes.
"""

import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import harness

CHECK_TIMEOUT = 150     # seconds; the suite takes ~15 s, more under sanitizers


def check_binary():
    """$DYNCONF_CHECK_ETCD, or the in-tree program (built here if missing)."""
    path = Path(os.environ.get("DYNCONF_CHECK_ETCD",
                               harness.REPO / "tests" / "etcd" / "check_etcd"))
    if not path.exists() and (harness.REPO / "Makefile").exists():
        subprocess.run(["make", "-C", str(harness.REPO), "tests/etcd/check_etcd"],
                       capture_output=True, timeout=600)
    if not path.exists():
        raise harness.SkipTest(f"{path} not built (it needs Check; try make check)")
    return path


def run_check(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DYNCONF_TEST_")}
    env.update(env_extra)
    done = subprocess.run([str(check_binary())], env=env, capture_output=True,
                          text=True, timeout=CHECK_TIMEOUT)
    return done.returncode, done.stdout + done.stderr


def openssl(*args):
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True,
                   timeout=60)


def make_certificates(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=dynconf-test-ca", "-keyout", d / "ca-key.pem", "-out", d / "ca.pem")
    for name, usage, san in (("server", "serverAuth,clientAuth", "subjectAltName=IP:127.0.0.1\n"),
                             ("client", "clientAuth", "")):
        ext = d / f"{name}.ext"
        ext.write_text(f"{san}extendedKeyUsage={usage}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", d / f"{name}-key.pem", "-out", d / f"{name}.csr")
        openssl("x509", "-req", "-in", d / f"{name}.csr", "-CA", d / "ca.pem",
                "-CAkey", d / "ca-key.pem", "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", d / f"{name}.pem")


class TlsEtcd:
    """A single-member etcd whose clients must speak TLS with a certificate."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        make_certificates(self.dir)
        self.url = f"https://127.0.0.1:{harness.free_port()}"
        peer = f"http://127.0.0.1:{harness.free_port()}"
        d = self.dir
        self.proc = harness.Proc("etcd-tls", [
            "etcd", "--name", "tls", "--data-dir", d / "etcd",
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"tls={peer}",
            "--cert-file", d / "server.pem", "--key-file", d / "server-key.pem",
            "--trusted-ca-file", d / "ca.pem", "--client-cert-auth",
        ], d / "etcd.log")
        self.context = ssl.create_default_context(cafile=str(d / "ca.pem"))
        self.context.load_cert_chain(d / "client.pem", d / "client-key.pem")
        harness.wait_until(self._healthy, what=f"etcd health on {self.url}")

    def _healthy(self):
        self.proc.check_running()
        with urllib.request.urlopen(self.url + "/health", timeout=1,
                                    context=self.context) as r:
            return json.loads(r.read()).get("health") == "true"

    def stop(self):
        self.proc.stop()


def start_tls_etcd(workdir):
    """A TlsEtcd, or None (the TLS tests are then skipped) without openssl."""
    if shutil.which("openssl") is None:
        return None
    return TlsEtcd(workdir)


def module_fixture():
    with harness.Stack(backend=None, web=()) as plain, \
            harness.Stack(backend=None, web=()) as auth, \
            tempfile.TemporaryDirectory(prefix="dynconf-etcd-tls.") as tls_dir:
        password = secrets.token_hex(12)
        auth.etcd.etcdctl("user", "add", f"root:{password}")
        auth.etcd.etcdctl("auth", "enable")
        tls = start_tls_etcd(tls_dir)
        try:
            yield {"plain": plain.etcd, "auth": auth.etcd, "password": password,
                   "tls": tls, "tls_dir": tls_dir}
        finally:
            if tls is not None:
                tls.stop()


def test_check_etcd_passes_against_real_etcd(etcds):
    env = {
        "DYNCONF_TEST_ETCD": etcds["plain"].url,
        "DYNCONF_TEST_ETCD_AUTH": etcds["auth"].url,
        "DYNCONF_TEST_ETCD_PASSWORD": etcds["password"],
    }
    suites = ["etcd offline", "etcd kv", "etcd txn lease status", "etcd watch",
              "etcd resilience", "etcd auth"]
    if etcds["tls"] is not None:
        env["DYNCONF_TEST_ETCD_TLS"] = etcds["tls"].url
        env["DYNCONF_TEST_ETCD_TLS_DIR"] = etcds["tls_dir"]
        suites.append("etcd tls")
    status, output = run_check(env)
    assert status == 0, output
    summary = re.search(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)", output)
    assert summary, output
    assert summary.group(1) == "100" and summary.group(3) == "0" \
        and summary.group(4) == "0", output
    # Every suite ran, auth included: nothing was skipped quietly.
    for suite in suites:
        assert suite in output, (suite, output)
    assert int(summary.group(2)) >= 40, output


def test_check_etcd_skips_without_etcd():
    status, output = run_check({})
    assert status == 77, output
    assert "DYNCONF_TEST_ETCD is not set" in output, output
    assert "etcd offline" in output and "Failures: 0" in output, output


def test_auth_etcd_refuses_anonymous_writes(etcds):
    # The auth fixture is what the C tests assume: anonymous access refused.
    out = subprocess.run(["etcdctl", "--endpoints", etcds["auth"].url, "put", "k", "v"],
                         env=dict(os.environ, ETCDCTL_API="3"), capture_output=True,
                         text=True, timeout=harness.TIMEOUT)
    assert out.returncode != 0, out
    assert "user name is empty" in out.stderr or "permission denied" in out.stderr, out
