#!/usr/bin/env python3
"""Integration test harness for dynconf (Python 3 standard library only).

A Stack is a set of real processes in one temporary directory: etcd, the
dynconf-fcgi pool (or dynconf-fcgi under spawn-fcgi, or a tiny FastCGI echo
server standing in for it) and nginx and/or Apache in front, each on free
loopback ports. The web servers run the shipped server blocks from contrib/,
rewritten only for ports and paths, so what ships is what is tested.

Everything started is torn down whatever happens: Stack is a context
manager, every process runs in its own process group that is killed as a
whole, and an atexit hook (plus a SIGTERM handler that turns into SystemExit)
catches what a crashed test leaves behind.

    with Stack(processes=2, web=("nginx", "apache")) as stack:
        r = stack.request("GET", "/v1/health", via="apache")
        assert r.status == 200 and r.json()["status"] == "ok"

Also here: a raw FastCGI client (fcgi_request, FcgiConnection) for what a
web server would hide, a load generator (Load) for supervision tests, and
checks the test modules share (assert_problem, require_body_route,
known_bug). Other test modules build on Proc, Etcd, Nginx and free_port
directly (a three-member etcd cluster, for one): keep those stable.

Run as a program it starts a development stack (contrib/dev-server uses it):
    python3 tests/integration/harness.py --dev [--port 8080]
"""

import argparse
import atexit
import fcntl
import functools
import http.client
import itertools
import json
import os
import pwd
import grp
import re
import resource
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTRIB = REPO / "contrib"
TIMEOUT = 10.0          # seconds, for any single network operation
START_TIMEOUT = 20.0    # seconds for a process to become ready
# Where the shipped web server sites find the admin UI (make install puts
# the tree's ui/ there); the stacks here serve the tree's ui/ itself.
UI_DIR = "/usr/share/dynconf/ui"


class SkipTest(Exception):
    """Raised by a test (or fixture) that cannot run here; the runner says why."""


def dynconf_binary():
    """The dynconf-fcgi under test: $DYNCONF_FCGI or the in-tree build."""
    return Path(os.environ.get("DYNCONF_FCGI", REPO / "dynconf-fcgi")).resolve()


def is_root():
    return os.geteuid() == 0


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


# --------------------------------------------------------------------------
# Small utilities

def wait_until(predicate, timeout=START_TIMEOUT, interval=0.02, what="condition"):
    """Poll predicate() until it returns something true; return that value."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the predicate may fail while starting
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {what}{detail}")
        time.sleep(interval)


_ports_handed_out = set()
_ports_lock = threading.Lock()


def free_port():
    """A loopback TCP port nobody listens on (and that we did not hand out yet)."""
    with _ports_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _ports_handed_out:
                _ports_handed_out.add(port)
                return port
    raise RuntimeError("no free port")


def template(text, replacements, source="template"):
    """Replace each key of replacements by its value; every key must occur.

    The shipped contrib files are rewritten only through this, and a key that
    is missing means the file changed under the tests: fail loudly rather than
    test something else than what ships.
    """
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"{source}: expected to find {old!r} to rewrite")
        text = text.replace(old, str(new))
    return text


def tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def proc_status(pid):
    """The fields of /proc/PID/status as a dict (empty when the pid is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return {}


def proc_stat(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or ")".
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def pid_alive(pid):
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def children_of(ppid):
    """Live (not zombie) child pids of ppid, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat and stat[1] == ppid and stat[0] not in ("Z", "X"):
                found.append(int(entry))
    return sorted(found)


def listening_inode(socket_path):
    """The inode of the listening unix socket bound at socket_path, from /proc/net/unix."""
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            # Num RefCount Protocol Flags Type St Inode [Path]; flag 0x10000: listening
            if len(fields) >= 8 and fields[7] == str(socket_path) and int(fields[3], 16) & 0x10000:
                return int(fields[6])
    return None


def bound_inode(socket_path):
    """The inode of any unix socket bound at socket_path (a datagram one too)."""
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == str(socket_path):
                return int(fields[6])
    return None


def holds_socket(pid, inode):
    return f"socket:[{inode}]" in open_fds(pid).values()


def open_fds(pid):
    try:
        return {name: os.readlink(f"/proc/{pid}/fd/{name}") for name in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return {}


# --------------------------------------------------------------------------
# Processes

_live_procs = []


class Proc:
    """A child process in its own process group, output to a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None, inherit_output=False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        out = None if inherit_output else open(self.log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=None if inherit_output else subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True)
        finally:
            if out is not None:
                out.close()
        self.pid = self.popen.pid
        _live_procs.append(self)

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, signo):
        if self.alive():
            os.kill(self.pid, signo)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0, signo=signal.SIGTERM):
        """Ask nicely, then kill the whole process group."""
        if self.alive():
            self._killpg(signo)
            if self.wait(timeout) is None:
                self._killpg(signal.SIGKILL)
                self.wait(5)
        # Stragglers left in the group (a responder whose master died).
        self._killpg(signal.SIGKILL)
        if self in _live_procs:
            _live_procs.remove(self)
        return self.popen.returncode

    def _killpg(self, signo):
        try:
            os.killpg(self.pid, signo)
        except (ProcessLookupError, PermissionError):
            pass

    def check_running(self):
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with status {self.popen.returncode}; "
                               f"log {self.log_path}:\n{tail(self.log_path)}")


def _stop_everything():
    for proc in reversed(list(_live_procs)):
        proc.stop(timeout=3)


atexit.register(_stop_everything)


def _terminate(signo, frame):
    # Turn SIGTERM into SystemExit so that finally blocks and atexit run.
    raise SystemExit(128 + signo)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _terminate)


# --------------------------------------------------------------------------
# HTTP

class Headers(dict):
    """Response headers, looked up case-insensitively (last value wins)."""

    def __init__(self, pairs=()):
        super().__init__()
        for name, value in pairs:
            self[name] = value

    def __setitem__(self, name, value):
        super().__setitem__(name.lower(), value)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.headers.get('content-type')} {self.body[:200]!r}>"


def http_request(port, method, path, body=None, headers=None, timeout=TIMEOUT):
    """One request on a fresh connection to 127.0.0.1:port."""
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, Headers(resp.getheaders()), data)
    finally:
        conn.close()


# --------------------------------------------------------------------------
# FastCGI, client side: speak to the pool directly, without a web server.

FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_END_REQUEST = 1, 2, 3
FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 4, 5, 6, 7
FCGI_RESPONDER = 1
_FCGI_HEADER = struct.Struct(">BBHHBx")


def fcgi_record(rtype, content, request_id=1):
    padding = -len(content) % 8
    return _FCGI_HEADER.pack(1, rtype, request_id, len(content), padding) + content + b"\0" * padding


def fcgi_stream(rtype, data, request_id=1):
    """data as records of at most 65535 bytes, followed by the empty end record."""
    out = b"".join(fcgi_record(rtype, data[i:i + 65535], request_id)
                   for i in range(0, len(data), 65535))
    return out + fcgi_record(rtype, b"", request_id)


def fcgi_encode_params(params):
    out = bytearray()
    for name, value in params.items():
        name = name.encode() if isinstance(name, str) else name
        value = value.encode() if isinstance(value, str) else value
        for length in (len(name), len(value)):
            out += bytes([length]) if length < 128 else struct.pack(">I", length | 0x80000000)
        out += name + value
    return bytes(out)


def fcgi_decode_params(data):
    params, i = {}, 0
    while i < len(data):
        lengths = []
        for _ in range(2):
            if data[i] < 128:
                lengths.append(data[i])
                i += 1
            else:
                lengths.append(struct.unpack(">I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
        name = data[i:i + lengths[0]].decode("latin-1")
        i += lengths[0]
        params[name] = data[i:i + lengths[1]].decode("latin-1")
        i += lengths[1]
    return params


def cgi_params(method, path, query="", body=b"", content_type=None, headers=None):
    """The parameters nginx's fastcgi_params would send for this request."""
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "dynconf-harness", "REQUEST_METHOD": method,
        "REQUEST_URI": path + ("?" + query if query else ""),
        "SCRIPT_NAME": path, "DOCUMENT_URI": path, "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
        "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "80", "SERVER_NAME": "localhost",
    }
    if content_type:
        params["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value
    return params


class FcgiResponse:
    def __init__(self, stdout, stderr, app_status, protocol_status):
        self.raw = stdout
        self.stderr = stderr
        self.app_status = app_status
        self.protocol_status = protocol_status
        head, sep, self.body = stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, self.body = stdout.partition(b"\n\n")
        self.headers = Headers(
            tuple(part.strip() for part in line.split(":", 1))
            for line in head.decode("latin-1").splitlines() if ":" in line)
        self.has_status_line = "status" in self.headers
        self.status = int(self.headers.get("status", "200").split()[0])

    def json(self):
        return json.loads(self.body)


class FcgiConnection:
    """One FastCGI request over a unix socket, sendable in pieces.

        conn = FcgiConnection(sock)
        conn.begin(cgi_params("PUT", "/v1/config/x", body=b"...", content_type=...))
        conn.send_stdin(first_half)
        ...
        conn.send_stdin(second_half, end=True)
        response = conn.read_response()
    """

    def __init__(self, socket_path, timeout=TIMEOUT, request_id=1):
        self.request_id = request_id
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(socket_path))

    def begin(self, params):
        body = struct.pack(">HB5x", FCGI_RESPONDER, 0)
        self.sock.sendall(fcgi_record(FCGI_BEGIN_REQUEST, body, self.request_id) +
                          fcgi_stream(FCGI_PARAMS, fcgi_encode_params(params), self.request_id))

    def send_stdin(self, data, end=False):
        records = b"".join(fcgi_record(FCGI_STDIN, data[i:i + 65535], self.request_id)
                           for i in range(0, len(data), 65535))
        if end:
            records += fcgi_record(FCGI_STDIN, b"", self.request_id)
        self.sock.sendall(records)

    def _recv_exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError(f"FastCGI connection closed after {len(data)} of {n} bytes")
            data += chunk
        return data

    def read_response(self):
        """Read records up to END_REQUEST; ConnectionError if it never comes."""
        stdout, stderr = b"", b""
        while True:
            _, rtype, _, length, padding = _FCGI_HEADER.unpack(self._recv_exactly(8))
            content = self._recv_exactly(length + padding)[:length]
            if rtype == FCGI_STDOUT:
                stdout += content
            elif rtype == FCGI_STDERR:
                stderr += content
            elif rtype == FCGI_END_REQUEST:
                app_status, protocol_status = struct.unpack(">IB3x", content)
                return FcgiResponse(stdout, stderr, app_status, protocol_status)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fcgi_request(socket_path, params, stdin=b"", timeout=TIMEOUT):
    """A whole FastCGI request; the FcgiResponse."""
    with FcgiConnection(socket_path, timeout) as conn:
        conn.begin(params)
        conn.send_stdin(stdin, end=True)
        return conn.read_response()


# --------------------------------------------------------------------------
# FastCGI, server side: an echo responder to see what a web server sends.

class FcgiEchoServer:
    """Answers every FastCGI request with its params and body as JSON.

    Stands in for the pool behind the shipped web server configurations, to
    check what they hand a backend (Authorization, REQUEST_URI, ...).
    """

    def __init__(self, socket_path):
        self.socket_path = str(socket_path)
        self.name = os.path.basename(self.socket_path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        os.chmod(self.socket_path, 0o666)
        self.listener.listen(64)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT)
                try:
                    self._answer(conn)
                except (OSError, ValueError):
                    pass

    def _answer(self, conn):
        reader = conn.makefile("rb")
        params, stdin, request_id, flags = b"", b"", 1, 0
        params_done = stdin_done = False
        while not (params_done and stdin_done):
            header = reader.read(8)
            if len(header) < 8:
                return
            _, rtype, request_id, length, padding = _FCGI_HEADER.unpack(header)
            content = reader.read(length + padding)[:length]
            if rtype == FCGI_BEGIN_REQUEST:
                _, flags = struct.unpack(">HB5x", content)
            elif rtype == FCGI_PARAMS:
                params += content
                params_done = length == 0
            elif rtype == FCGI_STDIN:
                stdin += content
                stdin_done = length == 0
        body = json.dumps({"params": fcgi_decode_params(params),
                           "stdin": stdin.decode("utf-8", "replace"),
                           "keep_conn": bool(flags & 1),
                           "socket": self.name}).encode()
        out = (b"Status: 200 OK\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        conn.sendall(fcgi_stream(FCGI_STDOUT, out, request_id) +
                     fcgi_record(FCGI_END_REQUEST, struct.pack(">IB3x", 0, 0), request_id))

    def stop(self):
        self.listener.close()
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass


# --------------------------------------------------------------------------
# The components of a stack

class Etcd:
    """A single-member etcd on two free loopback ports."""

    def __init__(self, workdir, client_port=None, peer_port=None):
        self.client_port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self.url = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        self.data_dir = Path(workdir) / "etcd"
        self.proc = Proc("etcd", [
            "etcd", "--name", "default", "--data-dir", self.data_dir,
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"default={peer}",
        ], Path(workdir) / "etcd.log")
        wait_until(self._healthy, what=f"etcd health on {self.url}")

    def _healthy(self):
        self.proc.check_running()
        with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
            return json.loads(r.read()).get("health") == "true"

    def etcdctl(self, *args, check=True):
        """Run etcdctl (API v3) against this etcd; its stdout."""
        env = dict(os.environ, ETCDCTL_API="3")
        done = subprocess.run(["etcdctl", "--endpoints", self.url, *map(str, args)],
                              env=env, capture_output=True, text=True, timeout=TIMEOUT)
        if check and done.returncode != 0:
            raise RuntimeError(f"etcdctl {' '.join(map(str, args))}: {done.stderr.strip()}")
        return done.stdout

    def stop(self):
        self.proc.stop()


def ini_text(settings):
    """{"server": {"listen": ...}, ...} as the INI text dynconf.conf reads."""
    lines = ["# Written by tests/integration/harness.py"]
    for section, values in settings.items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
    return "\n".join(lines) + "\n"


class Pool:
    """dynconf-fcgi -f as a pool master (pid = the master)."""

    def __init__(self, stack, processes=2, overrides=None, command=None):
        self.stack = stack
        self.workdir = stack.workdir
        self.conf_path = self.workdir / "dynconf.conf"
        self.socket_path = stack.socket_path
        self.log_path = stack.state_dir / "dynconf.log"
        self.processes = processes
        self.overrides = dict(overrides or {})
        self.command = command
        self.proc = None
        self.write_config()

    def settings(self):
        """The configuration as a dict of sections; overrides are "section.key"."""
        s = {
            "server": {
                "listen": self.socket_path,
                "write_listen": self.stack.write_socket_path,
                "socket_mode": "0660",
                "processes": self.processes,
                "shutdown_timeout": 10,
                "metrics_file": self.stack.state_dir / "metrics",
            },
            "etcd": {"endpoints": self.stack.etcd.url if self.stack.etcd else "http://127.0.0.1:9",
                     "prefix": "/dynconf/"},
            "replica": {"path": self.stack.state_dir / "replica.db"},
            "auth": {"mode": "off"},
            "log": {"target": self.log_path, "level": "info"},
        }
        # Web servers that drop root (Apache as www-data) connect through the group.
        if is_root() and group_exists("www-data"):
            s["server"]["socket_group"] = "www-data"
        for dotted, value in self.overrides.items():
            section, key = dotted.split(".", 1)
            s.setdefault(section, {})[key] = value
        return s

    def write_config(self, processes=None, **overrides):
        """(Re)write dynconf.conf; keyword overrides use "__" for the dot."""
        if processes is not None:
            self.processes = processes
        self.overrides.update({k.replace("__", "."): v for k, v in overrides.items()})
        # Atomically: a master rereading it (SIGHUP) must never see half a file.
        scratch = self.conf_path.with_name(self.conf_path.name + ".new")
        scratch.write_text(ini_text(self.settings()))
        os.replace(scratch, self.conf_path)

    def argv(self):
        if self.command is not None:
            return self.command
        return [dynconf_binary(), "-f", "-c", self.conf_path]

    def start(self):
        self.proc = Proc("dynconf-fcgi", self.argv(), self.workdir / "dynconf-fcgi.out",
                         inherit_output=self.stack.inherit_output)
        wait_until(self._serving, what="the pool to answer /v1/health over FastCGI")
        wait_until(lambda: len(self.responder_pids()) == self.processes,
                   what=f"{self.processes} responders")
        return self

    def _serving(self):
        self.proc.check_running()
        if not self.socket_path.exists():
            return False
        return fcgi_request(self.socket_path, cgi_params("GET", "/v1/health"), timeout=2).status == 200

    @property
    def master_pid(self):
        return self.proc.pid

    def responder_pids(self):
        """The master's children that hold the listening socket.

        Not every child is a responder (the replica's watcher is one too, and
        closes the socket): responders are the ones that can accept.
        """
        inode = listening_inode(self.socket_path)
        if inode is None:
            return []
        return [pid for pid in children_of(self.master_pid) if holds_socket(pid, inode)]

    def writer_pids(self):
        """The master's children that hold the write socket (server.write_listen)."""
        inode = listening_inode(self.stack.write_socket_path)
        if inode is None:
            return []
        return [pid for pid in children_of(self.master_pid) if holds_socket(pid, inode)]

    def watcher_pid(self):
        """The replica's watcher: the child that holds no socket, or None."""
        others = (set(self.child_pids()) - set(self.responder_pids()) -
                  set(self.writer_pids()) - {self.waiter_pid()})
        return others.pop() if len(others) == 1 else None

    @property
    def wait_socket_path(self):
        """server.wait_socket: by default beside the replica."""
        return Path(self.settings()["server"].get("wait_socket",
                                                  self.stack.state_dir / "wait.sock"))

    def waiter_pid(self):
        """The waiting process: the child bound to server.wait_socket, or None."""
        inode = bound_inode(self.wait_socket_path)
        if inode is None:
            return None
        found = [pid for pid in children_of(self.master_pid) if holds_socket(pid, inode)]
        return found[0] if len(found) == 1 else None

    def child_pids(self):
        """Every child of the master: responders, the watcher, retiring ones."""
        return children_of(self.master_pid)

    def signal(self, signo):
        os.kill(self.master_pid, signo)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, pattern, timeout=5.0):
        """The first match of the regular expression in the pool's log."""
        regex = re.compile(pattern)
        return wait_until(lambda: regex.search(self.log_text()), timeout=timeout,
                          what=f"/{pattern}/ in {self.log_path}")

    def stop(self, timeout=15.0):
        if self.proc is not None:
            return self.proc.stop(timeout)
        return None


class SpawnFcgi:
    """dynconf-fcgi under spawn-fcgi, started by contrib/spawn-fcgi/dynconf-spawn.

    The settings file is contrib/spawn-fcgi/dynconf with only paths (and,
    since the test machine has no dynconf user, the user) rewritten.
    """

    def __init__(self, stack, processes=2, overrides=None):
        self.stack = stack
        self.workdir = stack.workdir
        self.processes = processes
        # The responders read the same dynconf.conf the pool would.
        self.config = Pool(stack, processes, overrides)
        self.socket_path = stack.socket_path
        self.pidfile = self.workdir / "spawn-fcgi.pid"
        self.defaults_path = self.workdir / "spawn-fcgi.defaults"
        user, group = stack.run_user or "nobody", stack.run_group or "nogroup"
        text = template((CONTRIB / "spawn-fcgi/dynconf").read_text(), {
            "\nPROCESSES=2": f"\nPROCESSES={processes}",
            "SOCKET=/run/dynconf/dynconf.sock": f"SOCKET={self.socket_path}",
            "WRITE_SOCKET=/run/dynconf/dynconf-write.sock":
                f"WRITE_SOCKET={stack.write_socket_path}",
            "\nWRITE_PROCESSES=2": f"\nWRITE_PROCESSES={processes}",
            "RUN_USER=dynconf": f"RUN_USER={user}",
            "RUN_GROUP=dynconf": f"RUN_GROUP={group}",
            "DAEMON=/usr/sbin/dynconf-fcgi": f"DAEMON={dynconf_binary()}",
            "CONFIG=/etc/dynconf/dynconf.conf": f"CONFIG={self.config.conf_path}",
            "PIDFILE=/run/dynconf/spawn-fcgi.pid": f"PIDFILE={self.pidfile}",
        }, "contrib/spawn-fcgi/dynconf")
        self.defaults_path.write_text(text)
        self.proc = None

    @property
    def log_path(self):
        return self.config.log_path

    def start(self):
        env = dict(os.environ, DYNCONF_DEFAULTS=str(self.defaults_path))
        self.proc = Proc("dynconf-spawn", [CONTRIB / "spawn-fcgi/dynconf-spawn"],
                         self.workdir / "spawn-fcgi.out", env=env)
        wait_until(lambda: len(self.responder_pids()) == self.processes and
                   len(self.writer_pids()) == self.processes,
                   what=f"{self.processes} responders and writers under spawn-fcgi")
        wait_until(self._serving, what="spawn-fcgi responders to answer /v1/health")
        return self

    def _serving(self):
        self.proc.check_running()
        return fcgi_request(self.socket_path, cgi_params("GET", "/v1/health"), timeout=2).status == 200

    def responder_pids(self, pidfile=None):
        """The read responders spawn-fcgi forked, from its pidfile."""
        try:
            pids = [int(p) for p in (pidfile or self.pidfile).read_text().split()]
        except (OSError, ValueError):
            return []
        return [p for p in pids if pid_alive(p)]

    def writer_pids(self):
        """The write responders, from the second spawn-fcgi's pidfile."""
        return self.responder_pids(self.pidfile.with_name(self.pidfile.name + ".write"))

    def watcher_pids(self):
        """dynconf-spawn's own children: the replica's watcher (dynconf-fcgi -W)."""
        def is_watcher(pid):
            try:
                return b"-W" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:]
            except OSError:
                return False
        return [p for p in children_of(self.proc.pid) if is_watcher(p)]

    def stop(self, timeout=15.0):
        if self.proc is None:
            return None
        pids = self.responder_pids() + self.writer_pids()
        rc = self.proc.stop(timeout)
        # spawn-fcgi's children left our process group: make sure they are
        # gone, checking that each pid still is our binary (pids get reused).
        for pid in pids:
            try:
                if os.readlink(f"/proc/{pid}/exe") == str(dynconf_binary()):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return rc


class Nginx:
    """nginx running contrib/nginx/dynconf.conf inside a minimal main config."""

    def __init__(self, stack, port=None, host="127.0.0.1"):
        self.port = port or free_port()
        self.dir = stack.workdir / "nginx"
        for sub in ("", "tmp"):
            (self.dir / sub).mkdir(exist_ok=True)
        # "include fastcgi_params" resolves next to the main config.
        shutil.copy("/etc/nginx/fastcgi_params", self.dir / "fastcgi_params")
        server = template((CONTRIB / "nginx/dynconf.conf").read_text(), {
            "listen 8080;": f"listen {host}:{self.port};",
            "unix:/run/dynconf/dynconf.sock": f"unix:{stack.socket_path}",
            "unix:/run/dynconf/dynconf-write.sock": f"unix:{stack.write_socket_path}",
            UI_DIR: REPO / "ui",
        }, "contrib/nginx/dynconf.conf")
        (self.dir / "dynconf.conf").write_text(server)
        d = self.dir
        # As many as the hard limit lets nginx have, up to what 10000 watches need.
        nofile = min(50000, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        connections = max(1024, min(24000, nofile - 1000))
        (d / "nginx.conf").write_text(f"""# Written by tests/integration/harness.py
daemon off;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
{"user root root;" if is_root() else ""}
# Sized for thousands of waiting watches: each holds two connections
# (client and FastCGI) in one worker (see contrib/nginx/dynconf.conf).
worker_rlimit_nofile {nofile};
events {{ worker_connections {connections}; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    fastcgi_temp_path {d}/tmp/fastcgi;
    proxy_temp_path {d}/tmp/proxy;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/dynconf.conf;
}}
""")
        self.proc = Proc("nginx", ["nginx", "-p", d, "-c", d / "nginx.conf", "-e", d / "error.log"],
                         d / "nginx.out")
        self.error_log = d / "error.log"
        wait_until(self._listening, what=f"nginx on port {self.port}")

    def _listening(self):
        self.proc.check_running()
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def stop(self):
        self.proc.stop()


APACHE_MODULES = ["mpm_event", "authz_core", "proxy", "proxy_fcgi", "headers", "unique_id",
                  "alias"]


class Apache:
    """apache2 in the foreground running contrib/apache/dynconf.conf."""

    def __init__(self, stack, port=None):
        self.port = port or free_port()
        self.dir = stack.workdir / "apache"
        self.dir.mkdir(exist_ok=True)
        site = template((CONTRIB / "apache/dynconf.conf").read_text(), {
            "Listen 8080": f"Listen 127.0.0.1:{self.port}",
            "<VirtualHost *:8080>": f"<VirtualHost *:{self.port}>",
            "unix:/run/dynconf/dynconf.sock": f"unix:{stack.socket_path}",
            "unix:/run/dynconf/dynconf-write.sock": f"unix:{stack.write_socket_path}",
            UI_DIR: REPO / "ui",
        }, "contrib/apache/dynconf.conf")
        (self.dir / "dynconf.conf").write_text(site)
        d = self.dir
        modules = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
                            for m in APACHE_MODULES)
        # Apache refuses to serve as root: its children become www-data,
        # which reaches the socket through server.socket_group.
        user = "User www-data\nGroup www-data" if is_root() else ""
        (d / "apache2.conf").write_text(f"""# Written by tests/integration/harness.py
ServerRoot {d}
ServerName 127.0.0.1
DefaultRuntimeDir {d}
PidFile {d}/apache2.pid
ErrorLog {d}/error.log
LogLevel warn
{modules}
{user}
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {d}/access.log common
Include {d}/dynconf.conf
""")
        self.error_log = d / "error.log"
        self.proc = Proc("apache2", ["apache2", "-f", d / "apache2.conf", "-DFOREGROUND"],
                         d / "apache2.out")
        wait_until(self._listening, what=f"apache2 on port {self.port}")

    def _listening(self):
        self.proc.check_running()
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def stop(self):
        self.proc.stop()


# --------------------------------------------------------------------------
# The stack

_stack_numbers = itertools.count(1)


class Stack:
    """etcd + a FastCGI backend + web servers, in one temporary directory.

    backend: "pool" (dynconf-fcgi's master), "spawn-fcgi", "echo"
             (FcgiEchoServer) or None (start one later with start_pool()).
    web:     any of "nginx", "apache".
    user:    with root, the user the responders run as (-u); the state
             directory is handed to it.
    """

    def __init__(self, processes=2, overrides=None, web=("nginx",), backend="pool",
                 etcd=True, user=None, group=None, pool_command=None, workdir=None,
                 nginx_port=None, nginx_host="127.0.0.1", inherit_output=False,
                 state_dir=None, etcd_ports=(None, None)):
        self.processes = processes
        self.overrides = dict(overrides or {})
        self.web_names = tuple(web)
        self.backend_name = backend
        self.want_etcd = etcd
        self.run_user, self.run_group = user, group
        self.pool_command = pool_command
        self.nginx_port, self.nginx_host = nginx_port, nginx_host
        self.inherit_output = inherit_output
        self.etcd_ports = etcd_ports
        self.keep = workdir is not None or bool(os.environ.get("DYNCONF_KEEP_TMP"))
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix=f"dynconf-it{next(_stack_numbers)}.")
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Web servers and dropped-privilege responders must reach the socket.
        os.chmod(self.workdir, 0o755)
        self.state_dir = Path(state_dir or self.workdir / "state")
        self.state_dir.mkdir(exist_ok=True)
        self.socket_path = self.workdir / "dynconf.sock"
        self.write_socket_path = self.workdir / "dynconf-write.sock"
        if len(str(self.socket_path)) > 100:
            raise RuntimeError(f"{self.socket_path}: too long for a unix socket")
        self.etcd = self.pool = self.nginx = self.apache = self.echo = None
        self.echo_write = None

    # -- starting and stopping

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        expected = _inside_known_bug and issubclass(exc_type or Exception, AssertionError)
        if exc_type is not None and not issubclass(exc_type, SkipTest) and not expected:
            print(self.describe_logs(), file=sys.stderr)
        self.stop()
        return False

    def start(self):
        if self.want_etcd:
            self.etcd = Etcd(self.workdir, *self.etcd_ports)
        if self.backend_name == "spawn-fcgi" and is_root() and not self.run_user:
            # spawn-fcgi will not run responders as root.
            self.run_user, self.run_group = "nobody", "nogroup"
        if self.run_user and is_root():
            pw = pwd.getpwnam(self.run_user)
            os.chown(self.state_dir, pw.pw_uid, pw.pw_gid)
        if self.backend_name is not None:
            self.start_backend()
        if "nginx" in self.web_names:
            self.nginx = Nginx(self, self.nginx_port, self.nginx_host)
        if "apache" in self.web_names:
            self.apache = Apache(self)
        for via in self.web_names:
            wait_until(lambda: self.request("GET", "/v1/health", via=via).status == 200,
                       what=f"/v1/health through {via}")
        # With etcd up, tests start from a loaded replica (a slow machine, or
        # a sanitizer build, may take a moment for the snapshot).
        if self.etcd is not None and self.web_names and self.backend_name in ("pool", "spawn-fcgi"):
            wait_until(lambda: self.request("GET", "/v1/ready", via=self.web_names[0]).status
                       == 200, what="/v1/ready (the replica's snapshot)")

    def start_backend(self):
        if self.backend_name == "pool":
            self.pool = Pool(self, self.processes, self.overrides, self.pool_command).start()
        elif self.backend_name == "spawn-fcgi":
            self.pool = SpawnFcgi(self, self.processes, self.overrides).start()
        elif self.backend_name == "echo":
            # Both sockets, as the pool would; answers name the one used.
            self.echo = FcgiEchoServer(self.socket_path)
            self.echo_write = FcgiEchoServer(self.write_socket_path)
        else:
            raise ValueError(f"unknown backend {self.backend_name!r}")

    def stop(self):
        for part in (self.apache, self.nginx, self.pool, self.echo, self.echo_write,
                     self.etcd):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:  # noqa: BLE001 - keep stopping the rest
                    print(f"harness: stopping {part!r}: {e}", file=sys.stderr)
        self.apache = self.nginx = self.pool = self.echo = self.echo_write = None
        self.etcd = None
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- using it

    def port(self, via):
        server = {"nginx": self.nginx, "apache": self.apache}[via]
        if server is None:
            raise ValueError(f"this stack runs no {via}")
        return server.port

    def request(self, method, path, body=None, headers=None, via="nginx", timeout=TIMEOUT):
        """An HTTP request through the named web server: a Response."""
        return http_request(self.port(via), method, path, body, headers, timeout)

    def call(self, method, path, token=None, doc=None, headers=None, raw=None):
        """request() with a bearer token, and doc sent as JSON (or raw bytes
        as they are, with the JSON content type all the same)."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        body = raw if doc is None else json.dumps(doc).encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        return self.request(method, path, body=body, headers=h)

    def fcgi(self, method, path, query="", body=b"", content_type=None, headers=None):
        """A request straight to the FastCGI socket: an FcgiResponse."""
        return fcgi_request(self.socket_path,
                            cgi_params(method, path, query, body, content_type, headers), body)

    def etcdctl(self, *args, check=True):
        if self.etcd is None:
            raise RuntimeError("this stack runs no etcd")
        return self.etcd.etcdctl(*args, check=check)

    def describe_logs(self, lines=25):
        """The last lines of every log, for a failure report."""
        out = [f"--- stack {self.workdir}"]
        logs = sorted(p for p in self.workdir.rglob("*")
                      if p.is_file() and p.suffix in (".log", ".out") and p.name != "access.log")
        for path in logs:
            text = tail(path, lines)
            if text:
                out.append(f"--- {path.relative_to(self.workdir)} (last {lines} lines)\n{text}")
        return "\n".join(out)


# --------------------------------------------------------------------------
# Load

class Load(threading.Thread):
    """Requests in a loop on fresh connections until stop(), bounded in time.

    Each result is (started, finished, status or None, error text or None),
    with monotonic times.
    """

    def __init__(self, stack, path="/v1/health", via="nginx", max_seconds=60.0,
                 max_requests=1_000_000):
        super().__init__(daemon=True)
        self.stack, self.path, self.via = stack, path, via
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.results = []
        self._stopping = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        while (not self._stopping.is_set() and time.monotonic() < deadline and
               len(self.results) < self.max_requests):
            started = time.monotonic()
            try:
                status = self.stack.request("GET", self.path, via=self.via, timeout=5).status
                error = None if status == 200 else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as e:
                status, error = None, repr(e)
            self.results.append((started, time.monotonic(), status, error))

    def stop(self):
        self._stopping.set()
        self.join()
        return self

    def failures(self, since=None):
        return [r for r in self.results if r[3] is not None and (since is None or r[0] >= since)]

    def count(self, since=None):
        return sum(1 for r in self.results if since is None or r[0] >= since)

    def success_ratio(self):
        return 1 - len(self.failures()) / max(1, len(self.results))


# --------------------------------------------------------------------------
# Checks shared by the tests

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
PROBLEM_FIELDS = ("type", "title", "status", "detail", "code", "request_id")


def assert_problem(resp, status, code=None):
    """resp is an RFC 9457 problem document (API.md section 1); returns it."""
    assert resp.status == status, f"expected {status}, got {resp!r}"
    ctype = resp.headers.get("content-type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", f"content type {ctype!r}"
    doc = resp.json()
    missing = [f for f in PROBLEM_FIELDS if f not in doc]
    assert not missing, f"problem document lacks {missing}: {doc}"
    assert doc["status"] == status, doc
    if code is not None:
        assert doc["code"] == code, f"expected code {code!r}, got {doc}"
    request_id = resp.headers.get("x-request-id")
    assert request_id and doc["request_id"] == request_id, \
        f"X-Request-Id {request_id!r} vs body {doc['request_id']!r}"
    return doc


_inside_known_bug = 0     # a failed assertion there is expected: no log dump


def known_bug(reason):
    """Mark a test that fails because of a reported, not yet fixed product bug.

    While it fails on an assertion it is reported as a skip naming the bug,
    so the suite stays green and the bug stays visible; once fixed, it
    simply passes (then drop the marker).
    """
    def mark(test):
        @functools.wraps(test)
        def run(*args):
            global _inside_known_bug
            _inside_known_bug += 1
            try:
                test(*args)
            except AssertionError as e:
                first_line = str(e).splitlines()[0][:160] if str(e) else "assertion failed"
                raise SkipTest(f"known bug: {reason}; {first_line}") from e
            finally:
                _inside_known_bug -= 1
        return run
    return mark


def require_body_route(stack, via="nginx"):
    """Skip unless PUT /v1/config/{key} (a route with a JSON body) is served."""
    resp = stack.request("PUT", "/v1/config/harness/probe", body=b'{"value":1}',
                         headers={"Content-Type": "application/json"}, via=via)
    if resp.status in (404, 405):
        raise SkipTest(f"PUT /v1/config/{{key}} is not routed yet ({resp.status}); "
                       f"body checks need a route that takes a JSON body")
    return resp


# --------------------------------------------------------------------------
# The shipped systemd unit

def systemd_unit(path=CONTRIB / "systemd/dynconf.service"):
    """The [Service] settings of a unit file: {key: [values...]}."""
    settings, section = {}, None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def systemd_exec_start(conf_path, user, group):
    """ExecStart of the shipped unit as argv, with the binary, config path and
    user (the test machine has no dynconf user) rewritten."""
    line = systemd_unit()["ExecStart"][0]
    line = template(line, {
        "/usr/sbin/dynconf-fcgi": dynconf_binary(),
        "/etc/dynconf/dynconf.conf": conf_path,
        "-u dynconf": f"-u {user}",
        "-g dynconf": f"-g {group}",
    }, "contrib/systemd/dynconf.service ExecStart")
    return shlex.split(line)


# --------------------------------------------------------------------------
# Development stack (contrib/dev-server)

def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def dev_etcd_ports(dev):
    """The etcd ports of the last run: etcd keeps its peer URL in .dev/etcd."""
    saved = dev / "etcd.ports"
    try:
        ports = tuple(int(p) for p in saved.read_text().split())
        if len(ports) == 2 and all(map(port_is_free, ports)):
            return ports
    except (OSError, ValueError):
        pass
    ports = free_port(), free_port()
    saved.write_text(f"{ports[0]} {ports[1]}\n")
    return ports


def dev_admin_token(stack, path):
    """Keep the admin token of the last run if it still works, else make one
    with dynconfctl and write it (mode 0600) to path."""
    def works(token):
        resp = stack.request("GET", "/v1/tokens", headers={"Authorization": f"Bearer {token}"})
        return resp.status == 200
    try:
        if works(path.read_text().strip()):
            return
    except OSError:
        pass
    done = subprocess.run([REPO / "dynconfctl", "-c", stack.pool.conf_path, "token", "create",
                           "--name", "admin", "--scopes", "admin"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"dynconfctl: {done.stderr.strip()}")
    token = done.stdout.strip()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    wait_until(lambda: works(token), timeout=5, what="the admin token to work")


def run_dev(args):
    # DYNCONF_DEV_DIR: another place than .dev (the tests use a temporary one).
    dev = Path(os.environ.get("DYNCONF_DEV_DIR") or REPO / ".dev").resolve()
    dev.mkdir(exist_ok=True)
    lock = open(dev / "dev-server.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        pid = lock.read().strip() or "?"
        print(f"dev-server: already running (pid {pid}); stop it first (Ctrl-C there, "
              f"or kill {pid})", file=sys.stderr)
        return 1
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    # Authentication on, as in production; .dev/admin.token holds an admin
    # token made by dynconfctl (the bootstrap path), kept across restarts.
    overrides = {"auth.mode": "on", "log.target": "stderr",
                 "replica.path": dev / "replica.db", "server.metrics_file": dev / "metrics"}
    stack = Stack(processes=args.processes, overrides=overrides, web=("nginx",),
                  workdir=dev, state_dir=dev, nginx_port=args.port, inherit_output=True,
                  etcd_ports=dev_etcd_ports(dev))
    try:
        try:
            stack.start()
        except (RuntimeError, TimeoutError, OSError) as e:
            print(f"dev-server: could not start the stack: {e}", file=sys.stderr)
            return 1
        try:
            dev_admin_token(stack, dev / "admin.token")
        except (RuntimeError, TimeoutError, OSError) as e:
            print(f"dev-server: could not make the admin token: {e}", file=sys.stderr)
            return 1
        env = (f"DYNCONF_URL=http://127.0.0.1:{stack.nginx.port}\n"
               f"ETCDCTL_ENDPOINTS={stack.etcd.url}\n"
               f"ETCDCTL_API=3\n"
               f"# An admin token (dynconfctl token create); send it as\n"
               f"# Authorization: Bearer $(cat $DYNCONF_TOKEN_FILE)\n"
               f"DYNCONF_TOKEN_FILE={dev}/admin.token\n")
        (dev / "stack.env").write_text(env)
        print(f"dev-server: dynconf at http://127.0.0.1:{stack.nginx.port} "
              f"(etcd {stack.etcd.url}, admin token in {dev}/admin.token)\n"
              f"dev-server: the admin UI: http://127.0.0.1:{stack.nginx.port}/ui/ "
              f"(sign in with the token in {dev}/admin.token)\n"
              f"dev-server: . .dev/stack.env; curl -i $DYNCONF_URL/v1/health\n"
              f"dev-server: curl -H \"Authorization: Bearer $(cat $DYNCONF_TOKEN_FILE)\" "
              f"$DYNCONF_URL/v1/flags\n"
              f"dev-server: Ctrl-C stops everything", file=sys.stderr, flush=True)
        while not stopping.wait(0.5):
            for part in (stack.etcd, stack.pool, stack.nginx):
                if not part.proc.alive():
                    print(f"dev-server: {part.proc.name} exited "
                          f"({part.proc.popen.returncode}); stopping", file=sys.stderr)
                    return 1
        return 0
    finally:
        print("dev-server: stopping", file=sys.stderr, flush=True)
        stack.stop()
        for leftover in ("stack.env",):
            try:
                (dev / leftover).unlink()
            except OSError:
                pass
        lock.truncate(0)
        lock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true", help="run the development stack")
    parser.add_argument("--port", type=int, default=8080, help="nginx port (default 8080)")
    parser.add_argument("--processes", type=int, default=2, help="responders (default 2)")
    args = parser.parse_args(argv)
    if not args.dev:
        parser.error("nothing to do: pass --dev")
    return run_dev(args)


if __name__ == "__main__":
    sys.exit(main())
