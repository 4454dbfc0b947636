"""JSON input correctness (API.md sections 1, 5, 6 and 13; issue 10, "Hardening"):

- a \\u0000 escape anywhere in a body is refused (400 nul_in_string, the field
  named), because json-c cuts member names and the strings callers read at
  the first NUL: "nulenv\\u0000../../x" used to create "nulenv";
- a number json-c would change (integers beyond int64/uint64, -0, numbers
  beyond a double) is refused with the field named (400 number_out_of_range);
  every other number reads back byte for byte as sent;
- a lone UTF-16 surrogate escape is not UTF-8 (400 invalid_utf8); a value
  written into etcd by hand that is not UTF-8 is served as valid JSON (U+FFFD
  for each bad byte) on every read path, and logged;
- a corrupt document written into etcd by hand: lists leave it out (logged),
  a single read answers 500 corrupt_document naming the key, and DELETE still
  removes it, as it removes any listed key that breaks the naming rule.

One stack (real etcd, the pool, nginx) serves the whole module.
"""

import base64
import json
import urllib.parse
import urllib.request

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}


def module_fixture():
    with harness.Stack(processes=2) as stack:
        yield stack


def send(stack, method, path, body=None):
    """body: bytes or str sent as is (the tests write their JSON by hand)."""
    return stack.request(method, path, body=body, headers=JSON)


def raw_etcd_put(stack, key, value):
    """etcdctl put of value (bytes, any bytes); the revision it made."""
    text = value.decode("utf-8", "surrogateescape")   # back to the same bytes in argv
    out = stack.etcdctl("put", "-w", "json", "/dynconf/" + key, text)
    return json.loads(out)["header"]["revision"]


def etcd_keys(stack, prefix="/dynconf/"):
    return stack.etcdctl("get", "--prefix", "--keys-only", prefix).split()


def served(stack, path):
    """GET path once the replica has what was just written into etcd."""
    return wait_until(lambda: (lambda r: r if r.status != 404 else None)(
        stack.request("GET", path)), timeout=2.0, what=f"{path} to be served")


def strict_json(resp):
    """The body is strict UTF-8 and JSON, with no lone surrogate escape; the document."""
    doc = json.loads(resp.body.decode("utf-8"))     # raises on a byte that is not UTF-8
    # json.loads reads a lone "\\ud800" as a lone surrogate, which UTF-8 cannot hold.
    json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return doc


def field_of(doc):
    assert len(doc.get("errors", [])) == 1, doc
    return doc["errors"][0]["field"]


# -- \u0000 (item 3)

def test_nul_in_an_environment_name_creates_nothing(stack):
    before = etcd_keys(stack)
    resp = send(stack, "POST", "/v1/environments", r'{"name":"nulenv\u0000../../x"}')
    doc = assert_problem(resp, 400, "nul_in_string")
    assert field_of(doc) == "name" and "name" in doc["detail"], doc
    assert_problem(stack.request("GET", "/v1/environments/nulenv"), 404)
    assert etcd_keys(stack) == before


def test_nul_in_a_token_name_or_scope_is_refused(stack):
    before = etcd_keys(stack)
    resp = send(stack, "POST", "/v1/tokens", r'{"name":"t\u0000x","scopes":["flags:read"]}')
    assert field_of(assert_problem(resp, 400, "nul_in_string")) == "name"
    resp = send(stack, "POST", "/v1/tokens",
                r'{"name":"t","scopes":["flags:read","admin\u0000"]}')
    assert field_of(assert_problem(resp, 400, "nul_in_string")) == "scopes[1]"
    assert etcd_keys(stack) == before


def test_nul_anywhere_in_a_flag_is_refused_with_its_field(stack):
    cases = [
        (r'{"key":"nf\u0000x","value":1}', "key"),
        (r'{"description":"a\u0000b","value":1}', "description"),
        (r'{"variants":[{"name":"a","value":1,"weight":1},'
         r'{"name":"b\u0000","value":2,"weight":1}]}', "variants[1].name"),
        (r'{"value":1,"criteria":{"country\u0000":"de"}}', "criteria.country\\u0000"),
        (r'{"value":1,"rules":[{"criteria":{"plan":"x\u0000"},"value":2}]}',
         "rules[0].criteria.plan"),
        (r'{"value":{"deep":["ok","n\u0000"]}}', "value.deep[1]"),
    ]
    for body, field in cases:
        doc = assert_problem(send(stack, "PUT", "/v1/flags/nf", body), 400, "nul_in_string")
        assert field_of(doc) == field, (body, doc)
    assert_problem(stack.request("GET", "/v1/flags/nf"), 404, "flag_not_found")


def test_nul_in_an_evaluation_context_is_refused(stack):
    assert send(stack, "PUT", "/v1/flags/nctx", '{"value":1}').status in (200, 201)
    resp = send(stack, "POST", "/v1/flags/nctx/evaluate",
                r'{"context":{"user":{"name":"x\u0000y"}}}')
    assert field_of(assert_problem(resp, 400, "nul_in_string")) == "context.user.name"


def test_nul_in_a_config_value_is_refused_too(stack):
    doc = assert_problem(send(stack, "PUT", "/v1/config/nul/v", r'{"value":"a\u0000b"}'),
                         400, "nul_in_string")
    assert field_of(doc) == "value", doc
    assert_problem(stack.request("GET", "/v1/config/nul/v"), 404)
    # An escaped backslash before u0000 is no NUL.
    ok = send(stack, "PUT", "/v1/config/nul/w", r'{"value":"a\\u0000b"}')
    assert ok.status == 201 and ok.json()["value"] == "a\\u0000b", ok


# -- numbers (item 4)

def test_a_number_json_c_would_change_is_refused_and_nothing_stored(stack):
    cases = [
        ("123456789012345678901234567890", "value"),
        ("18446744073709551616", "value"),
        ("-9223372036854775809", "value"),
        ("-0", "value"),
        ("1e400", "value"),
        ("-1.7976931348623159e308", "value"),
        ('{"a":[1, -9223372036854775809]}', "value.a[1]"),
        ('{"a":{"b":[0,{"c":99999999999999999999}]}}', "value.a.b[1].c"),
    ]
    for text, field in cases:
        resp = send(stack, "PUT", "/v1/config/num/refused", '{"value":%s}' % text)
        doc = assert_problem(resp, 400, "number_out_of_range")
        assert field_of(doc) == field and field in doc["detail"], (text, doc)
    assert_problem(stack.request("GET", "/v1/config/num/refused"), 404)
    assert not etcd_keys(stack, "/dynconf/config/num/refused")


KEPT = ["9223372036854775807", "18446744073709551615", "-9223372036854775808",
        "1.5", "1e3", "1E2", "1.0", "-0.0", "0.10000000000000000000001", "1e-400",
        "1.7976931348623157e308", "2.50E-3", "0", "-1"]


def test_numbers_in_range_read_back_byte_for_byte(stack):
    for i, text in enumerate(KEPT):
        key = f"num/kept{i}"
        body = '{"value":{"a":[1,%s]}}' % text
        want = '"value":{"a":[1,%s]}' % text
        put = send(stack, "PUT", f"/v1/config/{key}", body)
        assert put.status == 201 and want in put.body.decode(), (text, put)
        assert want in stack.request("GET", f"/v1/config/{key}").body.decode(), text
        assert want in stack.request("GET", f"/v1/config/{key}?force=true").body.decode()
        stored = stack.etcdctl("get", "--print-value-only", f"/dynconf/config/{key}").strip()
        assert stored == '{"a":[1,%s]}' % text, (text, stored)
    listed = stack.request("GET", "/v1/config?prefix=num/").body.decode()
    for text in KEPT:
        assert '"value":{"a":[1,%s]}' % text in listed, (text, listed)


def test_flag_values_read_back_byte_for_byte_or_are_refused(stack):
    body = ('{"value":18446744073709551615,"default":-9223372036854775808,'
            '"variants":[{"name":"a","value":1e3,"weight":1},'
            '{"name":"b","value":0.10000000000000000000001,"weight":2.5}],'
            '"rules":[{"criteria":{"n":{"gt":9223372036854775807}},"value":1E2}]}')
    put = send(stack, "PUT", "/v1/flags/numflag", body)
    assert put.status == 201, put
    for resp in (put, stack.request("GET", "/v1/flags/numflag"),
                 stack.request("GET", "/v1/flags")):
        text = resp.body.decode()
        for part in ('"value":18446744073709551615', '"default":-9223372036854775808',
                     '"value":1e3', '"value":0.10000000000000000000001', '"value":1E2',
                     '"gt":9223372036854775807'):
            assert part in text, (part, text)
    refused = [('{"value":123456789012345678901234567890}', "value"),
               ('{"value":1,"default":-0}', "default"),
               ('{"variants":[{"name":"a","value":1e999,"weight":1}]}', "variants[0].value"),
               ('{"value":1,"criteria":{"n":{"lt":-99999999999999999999}}}', "criteria.n.lt")]
    for text, field in refused:
        doc = assert_problem(send(stack, "PUT", "/v1/flags/numflag", text), 400,
                             "number_out_of_range")
        assert field_of(doc) == field, (text, doc)
    assert '"value":18446744073709551615' in stack.request("GET", "/v1/flags/numflag").body.decode()


def test_a_token_ttl_that_would_saturate_is_refused(stack):
    for ttl in ("18446744073709551616", "1e400"):
        resp = send(stack, "POST", "/v1/tokens",
                    '{"name":"big","scopes":["flags:read"],"ttl":%s}' % ttl)
        assert field_of(assert_problem(resp, 400, "number_out_of_range")) == "ttl"
    # In range for json-c but not a ttl: refused as before, never cut to fit.
    resp = send(stack, "POST", "/v1/tokens",
                '{"name":"big","scopes":["flags:read"],"ttl":18446744073709551615}')
    assert field_of(assert_problem(resp, 400, "validation_failed")) == "ttl"


def test_an_update_revision_beyond_int64_is_not_cut_to_fit(stack):
    put = send(stack, "PUT", "/v1/flags/revflag", '{"value":1}')
    assert put.status == 201, put
    resp = send(stack, "POST", "/v1/flags/revflag",
                '{"value":2,"revision":18446744073709551615}')
    doc = assert_problem(resp, 400, "validation_failed")
    assert field_of(doc) == "revision", doc
    resp = send(stack, "POST", "/v1/flags/revflag",
                '{"value":2,"revision":%d}' % put.json()["revision"])
    assert resp.status == 200, resp


# -- UTF-8 and surrogates (item 5)

def test_lone_surrogate_escapes_are_refused(stack):
    for text, field in [(r'"\ud800"', "value"), (r'"\udc00"', "value"),
                        (r'"\ud800\u0041"', "value"), (r'{"k":["\udbff"]}', "value.k[0]"),
                        (r'"\ude00\ud83d"', "value")]:
        resp = send(stack, "PUT", "/v1/config/utf/lone", '{"value":%s}' % text)
        assert field_of(assert_problem(resp, 400, "invalid_utf8")) == field, text
    assert_problem(stack.request("GET", "/v1/config/utf/lone"), 404)
    pair = send(stack, "PUT", "/v1/config/utf/pair", r'{"value":"\ud83d\ude00"}')
    assert pair.status == 201 and strict_json(pair)["value"] == "\U0001f600", pair


def test_a_value_written_by_hand_that_is_not_utf8_is_served_as_valid_json(stack):
    big = b"x" * 5000 + b"\xff" + b"y" * 5000
    cases = {"utf/raw/latin1": (b"caf\xe9", "caf\ufffd"),
             "utf/raw/injson": (b'"caf\xe9"', '"caf\ufffd"'),
             "utf/raw/surrogate": (b"\xed\xa0\x80!", "\ufffd\ufffd\ufffd!"),
             "utf/raw/escape": (b'"\\ud800"', '"\\ud800"'),
             "utf/raw/big": (big, "x" * 5000 + "\ufffd" + "y" * 5000)}
    first = None
    for key, (stored, shown) in cases.items():
        revision = raw_etcd_put(stack, "config/" + key, stored)
        first = first or revision
        one = served(stack, f"/v1/config/{key}")
        assert one.status == 200 and strict_json(one)["value"] == shown, (key, one)
        forced = stack.request("GET", f"/v1/config/{key}?force=true")
        assert strict_json(forced)["value"] == shown, key
    listed = strict_json(stack.request("GET", "/v1/config?prefix=utf/raw/"))
    assert {i["key"]: i["value"] for i in listed["items"]} == \
        {k: v[1] for k, v in cases.items()}, listed
    query = urllib.parse.urlencode({"prefix": "config/utf/raw/", "since": first - 1,
                                    "timeout": 1}, safe="/")
    events = strict_json(stack.request("GET", f"/v1/watch?{query}"))["events"]
    assert {e["key"]: e["value"] for e in events} == \
        {k: v[1] for k, v in cases.items()}, events
    stack.pool.wait_for_log(r"stored value config/utf/raw/latin1 is not UTF-8")
    lines = [line for line in stack.pool.log_text().splitlines()
             if "config/utf/raw/big" in line]
    assert lines and all(len(line) < 1000 for line in lines), lines


def test_a_flag_written_by_hand_that_is_not_utf8_is_served_mended(stack):
    doc = b'{"key":"rawflag","description":"caf\xe9","value":"v\xff"}'
    revision = raw_etcd_put(stack, "flags/default/rawflag", doc)
    one = served(stack, "/v1/flags/rawflag")
    flag = strict_json(one)
    assert flag["description"] == "caf\ufffd" and flag["value"] == "v\ufffd", flag
    listed = strict_json(stack.request("GET", "/v1/flags"))
    assert [f["description"] for f in listed["items"] if f["key"] == "rawflag"] == \
        ["caf\ufffd"], listed
    evaluated = strict_json(send(stack, "POST", "/v1/flags/rawflag/evaluate", '{"context":{}}'))
    assert evaluated["value"] == "v\ufffd", evaluated
    bulk = strict_json(send(stack, "POST", "/v1/evaluate", '{"context":{}}'))
    assert any(f["key"] == "rawflag" for f in bulk["flags"]), bulk
    query = urllib.parse.urlencode({"prefix": "flags/default/", "since": revision - 1,
                                    "timeout": 1}, safe="/")
    strict_json(stack.request("GET", f"/v1/watch?{query}"))
    stack.pool.wait_for_log(r"stored document flags/default/rawflag is not UTF-8")
    assert stack.request("DELETE", "/v1/flags/rawflag").status == 204


# -- corrupt documents and keys written by hand (should fix)

def test_a_corrupt_flag_is_skipped_in_lists_and_answers_corrupt_document(stack):
    corrupt = {"corrupt-text": b"not json at all",
               "corrupt-shape": b'{"enabled":"yes","value":1}',
               "corrupt-nul": b'{"value":1,"description":"a\\u0000b"}',
               "corrupt-number": b'{"value":123456789012345678901234567890}'}
    assert send(stack, "PUT", "/v1/flags/healthy", '{"value":1}').status in (200, 201)
    for key, text in corrupt.items():
        raw_etcd_put(stack, f"flags/default/{key}", text)
    for key in corrupt:
        resp = wait_until(lambda: (lambda r: r if r.status != 404 else None)(
            stack.request("GET", f"/v1/flags/{key}")), timeout=2.0, what=key)
        doc = assert_problem(resp, 500, "corrupt_document")
        assert f"flags/default/{key}" in doc["detail"], doc
        assert_problem(send(stack, "POST", f"/v1/flags/{key}/evaluate", '{"context":{}}'),
                       500, "corrupt_document")
    listed = stack.request("GET", "/v1/flags")
    assert listed.status == 200, listed
    keys = [f["key"] for f in listed.json()["items"]]
    assert "healthy" in keys and not set(corrupt) & set(keys), keys
    bulk = send(stack, "POST", "/v1/evaluate", '{"context":{}}').json()
    assert not set(corrupt) & {f["key"] for f in bulk["flags"]}, bulk
    stack.pool.wait_for_log(r"stored (flag|document) flags/default/corrupt-text")
    stack.pool.wait_for_log(r"stored document flags/default/corrupt-nul is corrupt")
    for key in corrupt:
        assert stack.request("DELETE", f"/v1/flags/{key}").status == 204, key
        assert not etcd_keys(stack, f"/dynconf/flags/default/{key}"), key


def test_a_corrupt_environment_answers_corrupt_document_and_can_be_deleted(stack):
    raw_etcd_put(stack, "environments/brokenenv", b"{garbage")
    resp = wait_until(lambda: (lambda r: r if r.status != 404 else None)(
        stack.request("GET", "/v1/environments/brokenenv")), timeout=2.0, what="brokenenv")
    doc = assert_problem(resp, 500, "corrupt_document")
    assert "environments/brokenenv" in doc["detail"], doc
    listed = stack.request("GET", "/v1/environments")
    assert listed.status == 200, listed
    assert "brokenenv" not in [e["name"] for e in listed.json()["items"]], listed.json()
    assert stack.request("DELETE", "/v1/environments/brokenenv").status == 204
    assert not etcd_keys(stack, "/dynconf/environments/brokenenv")


def test_every_listed_key_can_be_deleted(stack):
    config_keys = ["hand/sp ace", "hand/semi;colon", "hand/-dash", "hand/ü"]
    for key in config_keys:
        raw_etcd_put(stack, "config/" + key, b"1")
    wait_until(lambda: stack.request("GET", "/v1/config?prefix=hand/").json()["total"]
               == len(config_keys), timeout=2.0, what="the hand-written keys")
    listed = [i["key"] for i in stack.request("GET", "/v1/config?prefix=hand/").json()["items"]]
    assert sorted(listed) == sorted(config_keys), listed
    for key in listed:
        path = "/v1/config/" + urllib.parse.quote(key, safe="/")
        assert stack.request("DELETE", path).status == 204, key
    assert not etcd_keys(stack, "/dynconf/config/hand/")
    # A flag key written by hand, '/' and all.
    for key in ("bad key", "nested/one"):
        raw_etcd_put(stack, f"flags/default/{key}", b'{"value":1}')
    wait_until(lambda: {"bad key", "nested/one"} <= {
        f["key"] for f in stack.request("GET", "/v1/flags").json()["items"]},
        timeout=2.0, what="the hand-written flags listed")
    for key in ("bad key", "nested/one"):
        path = "/v1/flags/" + urllib.parse.quote(key, safe="")
        assert stack.request("DELETE", path).status == 204, key
    assert not etcd_keys(stack, "/dynconf/flags/default/bad key")
    assert not etcd_keys(stack, "/dynconf/flags/default/nested/")


def test_delete_never_leaves_its_folder(stack):
    raw_etcd_put(stack, "config/keep/me", b"1")
    before = etcd_keys(stack)
    for path in ("/v1/config/keep/%2e%2e/%2e%2e/environments/default",
                 "/v1/config/keep/./me", "/v1/config/keep//me",
                 "/v1/flags/%2e%2e", "/v1/flags/a%2F%2Fb", "/v1/flags/%2Fx"):
        assert_problem(stack.request("DELETE", path), 400, "invalid_key")
    assert etcd_keys(stack) == before


def test_an_etcd_key_with_a_nul_byte_does_not_pose_as_a_shorter_one(stack):
    """Written through etcd's gateway (etcdctl cannot pass a NUL in argv)."""
    assert send(stack, "PUT", "/v1/config/nulkey/a", '{"value":"good"}').status == 201

    def gateway(path, doc):
        req = urllib.request.Request(stack.etcd.url + path, data=json.dumps(doc).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    b64 = lambda raw: base64.b64encode(raw).decode()
    key = b"/dynconf/config/nulkey/a\x00evil"
    put = gateway("/v3/kv/put", {"key": b64(key), "value": b64(b'"evil"')})
    revision = int(put["header"]["revision"])
    wait_until(lambda: int(stack.request("GET", "/v1/config/nulkey/a").headers[
        "x-dynconf-revision"]) >= revision, timeout=2.0, what="the replica to catch up")
    for query in ("", "?force=true"):
        assert stack.request("GET", f"/v1/config/nulkey/a{query}").json()["value"] == "good"
    listed = stack.request("GET", "/v1/config?prefix=nulkey/").json()
    assert [(i["key"], i["value"]) for i in listed["items"]] == [("nulkey/a", "good")], listed
    gateway("/v3/kv/deleterange", {"key": b64(key)})
    deleted = int(gateway("/v3/kv/put", {"key": b64(b"/dynconf/config/nulkey/b"),
                                         "value": b64(b"1")})["header"]["revision"])
    wait_until(lambda: int(stack.request("GET", "/v1/config/nulkey/a").headers[
        "x-dynconf-revision"]) >= deleted, timeout=2.0, what="the replica to catch up")
    assert stack.request("GET", "/v1/config/nulkey/a").json()["value"] == "good"
    stack.pool.wait_for_log(r"etcd key /dynconf/config/nulkey/a\\0\.\.\. holds a NUL byte")
