"""What tests/bench/locks and tests/bench/services share: wrk driving a
sequence of requests per connection (acquire then release; lease grant
then lock, unlock, revoke), and the rig of tests/bench/run (an etcd of its
own, dynconf's pool, etcd's gateway and the ceiling behind one nginx),
measured the way run measures: rounds that alternate between the sides
in a rotating order, a quiet second waited for before each, rounds that
other processes disturbed run again and marked, the median round counted.

A sequence is a list of steps; wrk runs one connection per thread
(-tN -cN), so each thread is one client going through the steps in
order, carrying what an answer gave (a token, a lease id) into the next
request. A step whose answer is not the expected status counts as an
error and the client starts over; a run with errors does not count.
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_run():
    """tests/bench/run as a module (it is a script without .py)."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


run = load_run()

LUA = r"""
local threads, counter = {}, 1
function setup(thread)
  thread:set("me", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

errors, sequences = 0, 0
local step, v = 1, {}
%(data)s
%(steps)s

function init(args)
  v.data = DATA[me]
end

function request()
  local s = STEPS[step]
  return wrk.format(s.method, s.path(v), s.headers and s.headers(v) or {},
                    s.body and s.body(v) or nil)
end

function response(status, headers, body)
  local s = STEPS[step]
  if status ~= s.expect then
    errors = errors + 1
    step = 1
    return
  end
  for name, pattern in pairs(s.capture or {}) do
    v[name] = body:match(pattern)
  end
  step = step + 1
  if step > #STEPS then
    step = 1
    sequences = sequences + 1
  end
end

function done(summary, latency, requests)
  local e, n = 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    n = n + t:get("sequences")
  end
  io.write(string.format("SEQUENCES %%d ERRORS %%d\n", n, e))
end
"""


def lua_table(values):
    """A Lua array of per-thread data: each a table of strings."""
    rows = []
    for row in values:
        rows.append("{" + ", ".join("%s = %s" % (k, json.dumps(str(val)))
                                    for k, val in row.items()) + "}")
    return "DATA = {\n  " + ",\n  ".join(rows) + "\n}"


def write_script(workdir, name, steps_lua, data):
    path = os.path.join(workdir, name + ".lua")
    with open(path, "w") as f:
        f.write(LUA % {"data": lua_table(data), "steps": steps_lua})
    return path


def run_wrk(clients, duration, url, script):
    """One wrk run: (sequences per second, requests per second, p50, p99, errors)."""
    argv = ["wrk", "-t%d" % clients, "-c%d" % clients, "-d%ds" % duration,
            "--latency", "-s", script, url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if out.returncode != 0:
        run.die("wrk failed: %s%s" % (out.stdout, out.stderr))
    r = run.parse_wrk(out.stdout)
    m = re.search(r"^SEQUENCES (\d+) ERRORS (\d+)", out.stdout, re.M)
    if m is None:
        run.die("no sequence count in wrk's output:\n" + out.stdout)
    seconds = r["requests"] / r["rps"] if r["rps"] else duration
    r["sequences"] = int(m.group(1))
    r["seq_per_s"] = r["sequences"] / seconds
    r["errors"] += int(m.group(2))
    return r


_runs = iter(range(1 << 30))


def own_cpu(before, after):
    """CPU seconds that this run's own processes (etcd, nginx, the pool, wrk)
    used between two run.cpu_snapshot()s: what a sequence costs the machine,
    whatever else shares it."""
    start, _ = before
    end, ours = after
    ticks = sum(max(0, t - start.get(pid, 0)) for pid, t in end.items() if pid in ours)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_process(before, after, sequences):
    """Microseconds of CPU per sequence by process name (etcd, nginx,
    dynconf-fcgi, wrk...), for where a sequence's CPU goes (BENCH_CPU_DETAIL)."""
    start, _ = before
    end, ours = after
    by = {}
    for pid, t in end.items():
        if pid not in ours:
            continue
        try:
            with open("/proc/%d/comm" % pid) as f:
                name = f.read().strip()
        except OSError:
            name = "?"
        by[name] = by.get(name, 0) + max(0, t - start.get(pid, 0))
    tick = 1e6 / os.sysconf("SC_CLK_TCK") / max(sequences, 1)
    return ", ".join("%s %.0f" % (n, t * tick) for n, t in
                     sorted(by.items(), key=lambda kv: -kv[1]) if t)


def measure(args, sides, clients, label):
    """sides: [(name, url, script)], the baseline first; script is a path, or
    a function of a run number that writes one (a run cut short may leave
    state behind: a lock held). {name: median summary}."""
    rounds = {name: [] for name, _, _ in sides}
    for i in range(args.rounds):
        order = sides[i % len(sides):] + sides[:i % len(sides)]
        for name, url, script in order:
            for _ in range(args.retries + 1):
                path = script(next(_runs)) if callable(script) else script
                run.wait_quiet(args)
                before = run.cpu_snapshot()
                r = run_wrk(clients, args.duration, url, path)
                after = run.cpu_snapshot()
                r["other_cpu"] = run.other_cpu(before, after, args.duration)
                r["cpu_us"] = own_cpu(before, after) * 1e6 / max(r["sequences"], 1)
                disturbed = r["other_cpu"] > args.max_other_cpu
                run.log("bench: %-20s round %d/%d %-22s %8.0f/s  p50 %-8s p99 %-8s "
                        "%5.0f us CPU each, others %3.0f%% CPU%s%s" % (
                            label, i + 1, args.rounds, name, r["seq_per_s"],
                            run.fmt_ms(r["p50_ms"]), run.fmt_ms(r["p99_ms"]), r["cpu_us"],
                            r["other_cpu"] * 100,
                            "  (%d errors)" % r["errors"] if r["errors"] else "",
                            "  disturbed" if disturbed else ""))
                if os.environ.get("BENCH_CPU_DETAIL"):
                    run.log("bench:   CPU us per sequence: " +
                            cpu_by_process(before, after, r["sequences"]))
                if not disturbed:
                    break
            r["disturbed"] = disturbed
            rounds[name].append(r)
    everything = any(all(r["disturbed"] for r in rs) for rs in rounds.values())
    summary = {}
    for name, rs in rounds.items():
        used = rs if everything else ([r for r in rs if not r["disturbed"]] or rs)
        summary[name] = {
            "per_s": statistics.median(r["seq_per_s"] for r in used),
            "p50_ms": statistics.median(r["p50_ms"] for r in used),
            "p99_ms": statistics.median(r["p99_ms"] for r in used),
            "cpu_us": statistics.median(r["cpu_us"] for r in used),
            "errors": sum(r["errors"] + r["non2xx"] for r in rs),
            "clean_rounds": sum(not r["disturbed"] for r in rs),
            "rounds": rs,
        }
    return summary


class Rig:
    """etcd, one dynconf pool, etcd's gateway (and the ceiling when asked)
    behind one nginx, as tests/bench/run sets them up."""

    def __init__(self, args, ceiling=False, gateway_connections=64):
        self.workdir = tempfile.mkdtemp(prefix="dynconf-bench.")
        os.chmod(self.workdir, 0o755)
        self.started, self.nginx = [], None
        self.etcd = run.EtcdServer(self.workdir)
        self.dynconf = run.DynconfBackend(
            "dynconf", "dynconf log.level=%s" % args.log_level, self.workdir,
            args.binary, args.processes, {"log.level": args.log_level},
            self.etcd.url, write_processes=args.processes)
        self.gateway = run.EtcdGatewayBackend("etcd-gateway", "etcd gateway",
                                              self.workdir, self.etcd,
                                              gateway_connections)
        backends = [self.dynconf, self.gateway]
        self.ceiling = None
        if ceiling:
            self.ceiling = run.CeilingBackend("ceiling", "minimal libfcgi (ceiling)",
                                              self.workdir, run.build_minimal(self.workdir),
                                              args.processes)
            backends.append(self.ceiling)
        for b in backends:
            b.port = run.free_port()
            b.start()
            self.started.append(b)
        conf = run.write_nginx_conf(self.workdir, backends, args.nginx_workers)
        self.nginx = run.Proc("nginx", ["nginx", "-p", self.workdir + "/", "-c", conf,
                                        "-e", os.path.join(self.workdir, "nginx-error.log")],
                              os.path.join(self.workdir, "nginx.out"), signal.SIGQUIT)
        for b in backends:
            run.wait_for(lambda: run.tcp_port_ready(b.port), "nginx", proc=self.nginx.popen,
                         logfile=os.path.join(self.workdir, "nginx-error.log"))

    def url(self, backend):
        return "http://127.0.0.1:%d" % backend.port

    def stop(self, keep=False):
        if self.nginx is not None:
            self.nginx.stop()
        for b in reversed(self.started):
            b.stop()
        self.etcd.stop()
        if keep:
            run.log("bench: work directory kept: %s" % self.workdir)
        else:
            import shutil
            shutil.rmtree(self.workdir, ignore_errors=True)


def add_common_args(p, processes=8):
    p.add_argument("--duration", type=int, default=8, help="seconds per round (8)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per side (3)")
    p.add_argument("--processes", type=int, default=processes,
                   help="dynconf responders per group, read and write (%d)" % processes)
    p.add_argument("--log-level", default="warn", help="dynconf log.level (warn)")
    p.add_argument("--max-other-cpu", type=float, default=0.10)
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--quiet-wait", type=int, default=60)
    p.add_argument("--nginx-workers", default="1")
    p.add_argument("--binary", default=run.DEFAULT_BINARY)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--keep", action="store_true", help="keep the work directory")


def machine_line(args):
    m = run.machine_description()
    version = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout
    etcd = re.search(r"etcd Version: (\S+)", version)
    return ("%s; %d CPUs (%s), Linux %s, nginx %s, etcd %s, load average %.2f at start; "
            "%d rounds of %d s alternating, median; %d dynconf responders per group, "
            "log.level %s" % (m["date"], m["cpus"], m["cpu_model"], m["kernel"], m["nginx"],
                              etcd.group(1) if etcd else "?", m["loadavg"], args.rounds,
                              args.duration, args.processes, args.log_level))


def verdict_note(summary):
    unsure = [name for name, s in summary.items() if s["clean_rounds"] == 0]
    return ("  (unreliable: other processes were busy during every round of %s)"
            % ", ".join(unsure)) if unsure else ""
