"""dynconfctl (dynconfctl(8)) against a real etcd and a running pool: every
command's work, seen through the API where the API serves it; replica verify
finding a row changed behind the replica's back and a key missing from it,
and replica rebuild fixing both; backup then restore into an empty etcd
giving the same keys and values; and every command's bad-argument path: one
line on stderr naming the command, exit status 2.
"""

import base64
import json
import os
import re
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import harness
from harness import wait_until

DYNCONFCTL = harness.REPO / "dynconfctl"
JSON = {"Content-Type": "application/json"}


def module_fixture():
    with harness.Stack(processes=1, overrides={"auth.mode": "on"}) as stack:
        yield stack


def ctl(stack, *args, conf=None, stdin=None, env=None):
    """dynconfctl -c <the pool's config> args...: the CompletedProcess."""
    return subprocess.run([DYNCONFCTL, "-c", conf or stack.pool.conf_path, *map(str, args)],
                          input=stdin, capture_output=True, text=True, timeout=60,
                          env=env)


def ok(stack, *args, **kw):
    done = ctl(stack, *args, **kw)
    assert done.returncode == 0, f"dynconfctl {' '.join(map(str, args))}: {done.returncode}\n" \
                                 f"{done.stdout}\n{done.stderr}"
    return done


_admin = {}


def admin(stack):
    """An admin token made with dynconfctl, once per stack."""
    if stack not in _admin:
        _admin[stack] = ok(stack, "token", "create", "--name", "ctl-admin",
                           "--scopes", "admin").stdout.strip()
        wait_until(lambda: api(stack, "GET", "/v1/tokens").status == 200, timeout=5,
                   what="the admin token to work")
    return _admin[stack]


def api(stack, method, path, body=None):
    headers = dict(JSON, Authorization=f"Bearer {_admin.get(stack, '')}")
    return stack.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)


def test_token_create_list_revoke(stack):
    admin(stack)
    token = ok(stack, "token", "create", "--name", "ci", "--scopes", "config:read",
               "--ttl", "3600").stdout.strip()
    assert re.fullmatch(r"dct_[0-9a-f]{64}", token), token
    listed = ok(stack, "token", "list").stdout.splitlines()
    row = next(line.split("\t") for line in listed if "\tci\t" in line)
    assert row[2] == "config:read" and row[3] != "never", row
    token_id = row[0]
    auth = {"Authorization": f"Bearer {token}"}
    wait_until(lambda: stack.request("GET", "/v1/config?prefix=", headers=auth).status == 200,
               timeout=5, what="the new token to work")
    ok(stack, "token", "revoke", token_id)
    wait_until(lambda: stack.request("GET", "/v1/config?prefix=", headers=auth).status == 401,
               timeout=5, what="the revoked token to stop working")
    gone = ctl(stack, "token", "revoke", token_id)
    assert gone.returncode == 1 and "does not exist" in gone.stderr, gone


def test_env_create_list_rotate_key(stack):
    admin(stack)
    key = ok(stack, "env", "create", "ctl-env").stdout.strip()
    assert key.startswith("dcsdk_"), key
    assert "ctl-env\t" in ok(stack, "env", "list").stdout
    again = ctl(stack, "env", "create", "ctl-env")
    assert again.returncode == 1 and "exists" in again.stderr, again
    assert api(stack, "PUT", "/v1/flags/f?env=ctl-env", {"value": 1}).status == 201

    def evaluate(sdk_key):
        return stack.request("POST", "/v1/flags/f/evaluate", body="{}",
                             headers=dict(JSON, Authorization=f"Bearer {sdk_key}")).status
    wait_until(lambda: evaluate(key) == 200, timeout=5, what="the SDK key to work")
    new = ok(stack, "env", "rotate-key", "ctl-env").stdout.strip()
    assert new.startswith("dcsdk_") and new != key
    wait_until(lambda: evaluate(key) == 401 and evaluate(new) == 200, timeout=5,
               what="the old key to stop and the new one to work")


def test_flag_set_get_eval(stack):
    admin(stack)
    doc = {"criteria": {"plan": "pro"}, "value": "on", "default": "off"}
    made = json.loads(ok(stack, "flag", "set", "ctl-flag", json.dumps(doc)).stdout)
    assert made["value"] == "on" and made["revision"] > 0, made
    served = api(stack, "GET", "/v1/flags/ctl-flag?force=true").json()
    assert served["criteria"] == {"plan": "pro"} and served["revision"] == made["revision"]
    got = json.loads(ok(stack, "flag", "get", "ctl-flag").stdout)
    assert got["created_at"] == made["created_at"], (got, made)
    hit = json.loads(ok(stack, "flag", "eval", "--context", '{"plan":"pro"}',
                        "ctl-flag").stdout)
    miss = json.loads(ok(stack, "flag", "eval", "--context", '{"plan":"free"}',
                         "ctl-flag").stdout)
    assert (hit["value"], hit["reason"]) == ("on", "TARGETING_MATCH"), hit
    assert (miss["value"], miss["reason"]) == ("off", "DEFAULT"), miss
    stale = ctl(stack, "flag", "set", "--revision", "1", "ctl-flag", json.dumps(doc))
    assert stale.returncode == 1 and "not at revision 1" in stale.stderr, stale
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(dict(doc, value="on2"), f)
        f.flush()
        again = json.loads(ok(stack, "flag", "set", "--revision", made["revision"],
                              "--file", f.name, "ctl-flag").stdout)
    assert again["value"] == "on2" and again["created_at"] == made["created_at"]
    nowhere = ctl(stack, "flag", "set", "--env", "no-such-env", "x", '{"value":1}')
    assert nowhere.returncode == 1 and "does not exist" in nowhere.stderr, nowhere


def test_config_set_get_list(stack):
    admin(stack)
    ok(stack, "config", "set", "ctl/a", '{"retries": 3}')
    ok(stack, "config", "set", "ctl/b", '"text"')
    assert api(stack, "GET", "/v1/config/ctl/a?force=true").json()["value"] == {"retries": 3}
    assert json.loads(ok(stack, "config", "get", "ctl/b").stdout) == "text"
    listed = ok(stack, "config", "list", "--prefix", "ctl/").stdout.splitlines()
    assert listed == ['ctl/a\t{"retries":3}', 'ctl/b\t"text"'], listed
    missing = ctl(stack, "config", "get", "ctl/none")
    assert missing.returncode == 1 and "does not exist" in missing.stderr, missing


USER_LINES = [
    {"name": "Maria", "email": "maria@example.com", "age": 28, "team": "core"},
    {"name": "João", "email": "joao@example.com"},
    {"name": "Dup", "email": "MARIA@example.com"},           # email taken
    {"name": "", "email": "x@example.com"},                  # no name
    {"name": "Old", "age": 151},                             # age out of range
]


def test_user_import_export(stack):
    admin(stack)
    text = "\n".join(json.dumps(u) for u in USER_LINES) + "\nnot json\n"
    done = ctl(stack, "user", "import", stdin=text)
    assert done.returncode == 1, done
    assert "2 imported, 4 refused" in done.stderr, done.stderr
    for line, why in ((3, "email MARIA@example.com is taken"), (4, "name is required"),
                      (5, "age is an integer"), (6, "line 6 is not JSON")):
        assert f"line {line}" in done.stderr and why in done.stderr, (why, done.stderr)
    # Not a terminal: no progress line, only the summary and the refusals.
    assert "\r" not in done.stderr
    exported = [json.loads(line) for line in ok(stack, "user", "export").stdout.splitlines()]
    by_name = {u["name"]: u for u in exported}
    assert set(by_name) == {"Maria", "João"}, exported
    maria = by_name["Maria"]
    assert maria["team"] == "core" and maria["age"] == 28 and "revision" not in maria
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        maria["id"]), maria
    index = stack.etcdctl("get", "/dynconf/index/users/email/maria@example.com",
                          "--print-value-only").strip()
    assert index == maria["id"], index
    # An export imports again elsewhere as it was; here every id is taken.
    again = ctl(stack, "user", "import", stdin="\n".join(json.dumps(u) for u in exported))
    assert again.returncode == 1 and "0 imported, 2 refused" in again.stderr, again.stderr


def replica_db(stack):
    return sqlite3.connect(stack.state_dir / "replica.db", timeout=10)


def test_replica_verify_finds_damage_and_rebuild_fixes_it(stack):
    admin(stack)
    for key in ("verify/changed", "verify/dropped", "verify/kept"):
        ok(stack, "config", "set", key, '"v"')
    wait_until(lambda: api(stack, "GET", "/v1/config/verify/kept").status == 200, timeout=5,
               what="the watcher to bring the keys")
    clean = ok(stack, "replica", "verify")
    assert clean.stdout == "" and "0 differences" in clean.stderr, clean
    with replica_db(stack) as db:
        db.execute("UPDATE kv SET value = ? WHERE key = 'config/verify/changed'",
                   (b'"tampered"',))
        db.execute("DELETE FROM kv WHERE key = 'config/verify/dropped'")
    found = ctl(stack, "replica", "verify")
    assert found.returncode == 3, found
    lines = sorted(found.stdout.splitlines())
    assert len(lines) == 2, lines
    assert lines[0].startswith("differs\tconfig/verify/changed\tvalue"), lines
    assert lines[1].startswith("missing\tconfig/verify/dropped\t"), lines
    ok(stack, "replica", "rebuild")
    fixed = ok(stack, "replica", "verify")
    assert fixed.stdout == "", fixed
    with replica_db(stack) as db:
        rows = dict(db.execute("SELECT key, value FROM kv WHERE key LIKE 'config/verify/%'"))
    assert rows == {f"config/verify/{k}": b'"v"' for k in ("changed", "dropped", "kept")}, rows
    # The pool serves the rebuilt rows, cached reads included.
    assert api(stack, "GET", "/v1/config/verify/changed").json()["value"] == "v"


def test_replica_verify_extra_row(stack):
    admin(stack)
    with replica_db(stack) as db:
        db.execute("INSERT INTO kv (key, value, create_revision, mod_revision, version, lease,"
                   " deleted, updated_at) VALUES ('config/verify/ghost', '1', 1, 1, 1, 0, 0, 0)")
    found = ctl(stack, "replica", "verify")
    assert found.returncode == 3 and "extra\tconfig/verify/ghost\t" in found.stdout, found
    ok(stack, "replica", "rebuild")
    ok(stack, "replica", "verify")


def conf_for(stack, etcd, prefix="/dynconf/"):
    """A copy of the pool's config pointing at another etcd."""
    path = stack.workdir / f"other-{etcd.client_port}.conf"
    text = stack.pool.conf_path.read_text()
    text = text.replace(stack.etcd.url, etcd.url).replace("prefix = /dynconf/",
                                                          f"prefix = {prefix}")
    path.write_text(text)
    return path


def all_keys(etcd, prefix="/dynconf/"):
    out = etcd.etcdctl("get", "--prefix", prefix, "-w", "json")
    kvs = json.loads(out).get("kvs", [])
    return {base64.b64decode(kv["key"])[len(prefix):]: base64.b64decode(kv["value"])
            for kv in kvs}


def test_backup_restore_into_an_empty_etcd(stack):
    admin(stack)
    ok(stack, "config", "set", "backup/binary", '"x"')
    # A value that is not UTF-8 text, written straight into etcd.
    subprocess.run(["etcdctl", "--endpoints", stack.etcd.url, "put", "/dynconf/config/backup/raw",
                    b"\xff\xfe not UTF-8"], env=dict(os.environ, ETCDCTL_API="3"),
                   check=True, capture_output=True, timeout=10)
    backup = stack.workdir / "backup.jsonl"
    done = ok(stack, "backup", "--file", backup)
    assert os.stat(backup).st_mode & 0o077 == 0, "a backup holds secrets' hashes: 0600"
    lines = backup.read_text().splitlines()
    assert json.loads(lines[0])["dynconf_backup"] == 1
    end = json.loads(lines[-1])
    assert end["end"] is True and end["keys"] == len(lines) - 2, end
    assert f"{end['keys']} keys at revision {end['revision']}" in done.stderr
    empty_dir = Path(tempfile.mkdtemp(prefix="dynconf-restore.", dir=stack.workdir))
    other = harness.Etcd(empty_dir)
    try:
        conf = conf_for(stack, other)
        ok(stack, "restore", "--file", backup, conf=conf)
        source = all_keys(stack.etcd)
        restored = all_keys(other)
        at_backup = {k: v for k, v in source.items() if k in restored}
        assert len(restored) == end["keys"], (len(restored), end)
        assert restored == at_backup, "restored keys or values differ"
        # Not into a prefix that holds keys, unless --force.
        again = ctl(stack, "restore", "--file", backup, conf=conf)
        assert again.returncode == 1 and "holds" in again.stderr, again
        ok(stack, "restore", "--force", "--file", backup, conf=conf)
        assert all_keys(other) == restored
        # A truncated backup writes nothing.
        cut = stack.workdir / "cut.jsonl"
        cut.write_text("\n".join(lines[:-1]) + "\n")
        fresh = conf_for(stack, other, prefix="/fresh/")
        bad = ctl(stack, "restore", "--file", cut, conf=fresh)
        assert bad.returncode == 1 and "ends early" in bad.stderr, bad
        assert all_keys(other, "/fresh/") == {}
    finally:
        other.stop()


def test_status(stack):
    # The master publishes the pool's state for it every 250 ms.
    wait_until(lambda: "watcher" in ok(stack, "status").stdout and
               " running, etcd up" in ok(stack, "status").stdout, timeout=3,
               what="the pool's state published")
    done = ok(stack, "status")
    out = done.stdout
    assert re.search(r"member [0-9a-f]+ default http://127\.0\.0\.1:\d+: healthy, leader", out), out
    assert re.search(rf"master {stack.pool.master_pid} running since .*, 5 responders", out), out  # 1 reader, 4 writers
    assert re.search(r"watcher \d+ running, etcd up, breaker closed", out), out
    assert re.search(r"revision \d+, snapshot loaded, 0 revisions behind etcd", out), out


# Every command's bad-argument paths: (arguments, what the line must say).
BAD_ARGUMENTS = [
    (["status", "extra"], "unexpected argument extra"),
    (["token", "create", "--scopes", "admin"], "--name is required"),
    (["token", "create", "--name", "x"], "--scopes is required"),
    (["token", "create", "--name", "x", "--scopes", "root"], "unknown scope root"),
    (["token", "create", "--name", "a b", "--scopes", "admin"], "not a valid name"),
    (["token", "create", "--name", "x", "--scopes", "admin", "--ttl", "-5"], "--ttl -5 is too small"),
    (["token", "list", "--all"], "unknown option --all"),
    (["token", "revoke"], "the token id is missing"),
    (["token", "revoke", "../x"], "not a token id"),
    (["env", "create"], "the environment name is missing"),
    (["env", "create", "a/b"], "not a valid name"),
    (["env", "list", "x"], "unexpected argument x"),
    (["env", "rotate-key", "a", "b"], "unexpected argument b"),
    (["flag", "get"], "the flag key is missing"),
    (["flag", "get", "--env", "bad env", "f"], "--env bad env is not a valid name"),
    (["flag", "set", "f"], "give the document or --file"),
    (["flag", "set", "f", "{"], "the document is not JSON"),
    (["flag", "set", "f", '{"valeu": 1}'], "valeu: unknown field"),
    (["flag", "set", "--revision", "0", "f", "{}"], "--revision 0 is too small"),
    (["flag", "eval", "--context", "[]", "f"], "--context must be a JSON object"),
    (["flag", "eval", "--context"], "option --context needs a value"),
    (["config", "get", "a//b"], "not a config key"),
    (["config", "set", "a"], "the key or the value is missing"),
    (["config", "set", "a", "not json"], "is not JSON"),
    (["config", "list", "--prefix", "../"], "is not the start of a config key"),
    (["user", "import", "--frob"], "unknown option --frob"),
    (["user", "export", "x"], "unexpected argument x"),
    (["replica", "verify", "--fast"], "unknown option --fast"),
    (["replica", "rebuild", "x"], "unexpected argument x"),
    (["backup", "--file"], "option --file needs a value"),
    (["restore", "extra"], "unexpected argument extra"),
    (["token"], "which command?"),
    (["token", "mint"], "unknown command mint"),
    (["frobnicate"], "unknown command frobnicate"),
]


def test_bad_arguments_one_line_exit_2(stack):
    for args, says in BAD_ARGUMENTS:
        done = ctl(stack, *args)
        check_bad(args, says, done)
    for args, says in (([DYNCONFCTL, "-x", "status"], "unknown option -x"),
                       ([DYNCONFCTL, "-c"], "-c needs the configuration file"),
                       ([DYNCONFCTL], "which command?")):
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
        check_bad(args, says, done)


def check_bad(args, says, done):
    assert done.returncode == 2, (args, done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dynconfctl: "), (args, done.stderr)
    assert says in lines[0], (args, lines[0])
    assert done.stdout == "", (args, done.stdout)


def test_help_for_every_command(stack):
    commands = [args[:2] if args[0] not in ("status", "backup", "restore") else args[:1]
                for args in (["status"], ["backup"], ["restore"], ["token", "create"],
                             ["token", "list"], ["token", "revoke"], ["env", "create"],
                             ["env", "list"], ["env", "rotate-key"], ["flag", "get"],
                             ["flag", "set"], ["flag", "eval"], ["config", "get"],
                             ["config", "set"], ["config", "list"], ["user", "import"],
                             ["user", "export"], ["replica", "verify"],
                             ["replica", "rebuild"])]
    man = (harness.REPO / "doc/dynconfctl.8").read_text()
    everything = ok(stack, "help").stdout
    for words in commands:
        done = ok(stack, *words, "--help")
        assert done.stdout.startswith(f"usage: dynconfctl [-c config] {' '.join(words)}"), \
            (words, done.stdout)
        assert " ".join(words) in everything, words
        # The man page documents each command.
        assert re.search(r"\.It Cm " + r" ".join(map(re.escape, words)) + r"\b", man), words


def test_errors_from_etcd_are_one_line(stack):
    nowhere = stack.workdir / "nowhere.conf"
    nowhere.write_text(stack.pool.conf_path.read_text().replace(
        stack.etcd.url, f"http://127.0.0.1:{harness.free_port()}").replace(
        "[etcd]", "[etcd]\ntimeout = 300"))
    done = ctl(stack, "config", "get", "a", conf=nowhere)
    assert done.returncode == 1, done
    assert done.stderr.splitlines() == [done.stderr.strip()] and \
        "etcd is unreachable" in done.stderr, done.stderr
    missing = ctl(stack, "status", conf=stack.workdir / "no-such.conf")
    assert missing.returncode == 1 and len(missing.stderr.splitlines()) == 1, missing
