"""Users (API.md section 7, section 1 for lists, section 13 for the etcd
layout): create, read, full replace, RFC 7386 merge patch and delete;
If-Match and If-None-Match; every field's rules; extra members kept exactly
as sent; email uniqueness enforced by etcd (8 concurrent creates of one
email: one wins, and the index is whole afterwards); lists with filters,
ordering and pages; users and bad documents written straight into etcd.

The search itself is checked against a brute-force oracle in
test_users_search.py; the seed's /usuarios API in test_seed_users.py.

One stack (real etcd, the pool with 8 write responders, nginx) serves the
module.
"""

import base64
import json
import re
import threading
import time
import urllib.parse
import urllib.request

import harness
from harness import assert_problem, wait_until

JSON = {"Content-Type": "application/json"}
PATCH = {"Content-Type": "application/merge-patch+json"}
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def module_fixture():
    # Eight write responders: the concurrent creates below really overlap.
    with harness.Stack(processes=2, overrides={"server.write_processes": 8}) as stack:
        yield stack


def send(stack, method, path, doc=None, headers=None, raw=None):
    body = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else None)
    h = {**(JSON if body is not None else {}), **(headers or {})}
    return stack.request(method, path, body=body, headers=h)


def create(stack, doc):
    resp = send(stack, "POST", "/v1/users", doc)
    assert resp.status == 201, resp
    return resp.json()


def etcd_get(stack, key):
    out = stack.etcdctl("get", "--print-value-only", f"/dynconf/{key}").strip()
    return out or None


def errors_of(resp):
    return {e["field"]: e["message"] for e in resp.json().get("errors", [])}


# -- create, read, replace, patch, delete

def test_create_reads_back_with_id_revision_and_times(stack):
    resp = send(stack, "POST", "/v1/users",
                {"name": "Maria", "email": "maria@example.com", "age": 28})
    assert resp.status == 201, resp
    user = resp.json()
    assert UUID4.fullmatch(user["id"]), user
    assert user["name"] == "Maria" and user["email"] == "maria@example.com"
    assert user["age"] == 28 and isinstance(user["revision"], int), user
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", user["created_at"]), user
    assert user["updated_at"] == user["created_at"], user
    assert resp.headers["etag"] == f'"{user["revision"]}"', resp.headers
    assert resp.headers["location"] == f"/v1/users/{user['id']}", resp.headers
    got = send(stack, "GET", f"/v1/users/{user['id']}")
    assert got.status == 200 and got.json() == user, (got, user)
    assert got.headers["etag"] == f'"{user["revision"]}"'
    assert got.headers["x-cache"] == "hit", got.headers
    # etcd holds the document and its email's key (section 13).
    stored = json.loads(etcd_get(stack, f"users/{user['id']}"))
    assert stored == {k: v for k, v in user.items() if k not in ("id", "revision")}, stored
    assert etcd_get(stack, "index/users/email/maria@example.com") == user["id"]


def test_ids_are_random_uuid4(stack):
    ids = {create(stack, {"name": f"id test {i}"})["id"] for i in range(20)}
    assert len(ids) == 20 and all(UUID4.fullmatch(i) for i in ids), ids


def test_extra_members_are_kept_exactly(stack):
    raw = ('{"name":"Odd","flag":true,"zero":0,"empty":"","obj":{},"arr":[],'
           '"nothing":null,"nested":{"a":[1,{"b":null}]},"f":1.0,"e":1E2,'
           '"negz":-0.0,"tiny":1e-400,"big":18446744073709551615,'
           '"text":"ação \\u00e9 \\ud83d\\ude00"}')
    resp = send(stack, "POST", "/v1/users", raw=raw.encode())
    assert resp.status == 201, resp
    uid = resp.json()["id"]
    for body in (resp.body, send(stack, "GET", f"/v1/users/{uid}").body,
                 send(stack, "GET", f"/v1/users?search=odd&limit=1000").body):
        text = body.decode()
        for fragment in ('"flag":true', '"zero":0', '"empty":""', '"obj":{}',
                         '"arr":[]', '"nothing":null', '"nested":{"a":[1,{"b":null}]}',
                         '"f":1.0', '"e":1E2', '"negz":-0.0', '"tiny":1e-400',
                         '"big":18446744073709551615'):
            assert fragment in text, (fragment, text)
    user = send(stack, "GET", f"/v1/users/{uid}").json()
    assert user["text"] == "ação é \U0001F600", user


def test_put_replaces_the_whole_user_and_keeps_created_at(stack):
    user = create(stack, {"name": "Before", "email": "put@example.com", "age": 5,
                          "keep": "no"})
    time.sleep(1.1)
    resp = send(stack, "PUT", f"/v1/users/{user['id']}", {"name": "After", "city": "Porto"})
    assert resp.status == 200, resp
    after = resp.json()
    assert after["name"] == "After" and after["city"] == "Porto", after
    assert "keep" not in after and "age" not in after and "email" not in after, after
    assert after["created_at"] == user["created_at"], (user, after)
    assert after["updated_at"] > user["updated_at"], (user, after)
    assert after["revision"] > user["revision"]
    # The email went with it: its key is free again.
    assert etcd_get(stack, "index/users/email/put@example.com") is None
    assert create(stack, {"name": "Reuses", "email": "PUT@example.com"})


def test_put_creates_with_the_paths_id(stack):
    resp = send(stack, "PUT", "/v1/users/imported-42", {"name": "Imported", "id": "imported-42"})
    assert resp.status == 201, resp
    assert resp.json()["id"] == "imported-42"
    assert_problem(send(stack, "PUT", "/v1/users/imported-42", {"name": "x"},
                        headers={"If-None-Match": "*"}), 412, "already_exists")
    resp = send(stack, "PUT", "/v1/users/imported-42", {"name": "x", "id": "other"})
    assert_problem(resp, 400, "validation_failed")
    assert "id" in errors_of(resp), resp.json()
    assert_problem(send(stack, "POST", "/v1/users", {"name": "x", "id": "mine"}), 400,
                   "validation_failed")


def test_patch_is_a_merge_patch(stack):
    user = create(stack, {"name": "Patchy", "email": "patch1@example.com", "age": 30,
                          "prefs": {"a": 1, "b": {"c": 2}}, "tags": [1, 2]})
    uid = user["id"]
    resp = send(stack, "PATCH", f"/v1/users/{uid}",
                {"age": None, "prefs": {"b": {"c": None, "d": 4}, "e": None},
                 "tags": [3], "new": {"x": None, "y": 1}}, headers=PATCH)
    assert resp.status == 200, resp
    got = resp.json()
    assert "age" not in got and got["name"] == "Patchy", got
    assert got["prefs"] == {"a": 1, "b": {"d": 4}}, got
    assert got["tags"] == [3] and got["new"] == {"y": 1}, got
    assert got["created_at"] == user["created_at"]
    # application/json is a merge patch too; a changed email moves its key.
    resp = send(stack, "PATCH", f"/v1/users/{uid}", {"email": "Patch2@Example.com"})
    assert resp.status == 200 and resp.json()["email"] == "Patch2@Example.com", resp
    assert etcd_get(stack, "index/users/email/patch1@example.com") is None
    assert etcd_get(stack, "index/users/email/patch2@example.com") == uid
    # A patch that leaves no valid user is refused whole.
    resp = send(stack, "PATCH", f"/v1/users/{uid}", {"name": None, "age": 200},
                headers=PATCH)
    assert_problem(resp, 400, "validation_failed")
    assert set(errors_of(resp)) >= {"age"}, resp.json()
    resp = send(stack, "PATCH", f"/v1/users/{uid}", {"name": None}, headers=PATCH)
    assert_problem(resp, 400, "validation_failed")
    assert errors_of(resp) == {"name": "required"}, resp.json()
    assert send(stack, "GET", f"/v1/users/{uid}").json()["name"] == "Patchy"
    assert_problem(send(stack, "PATCH", "/v1/users/no-such-user", {"age": 1}), 404,
                   "user_not_found")
    resp = send(stack, "PATCH", f"/v1/users/{uid}", raw=b'{"age":1}',
                headers={"Content-Type": "text/plain"})
    assert_problem(resp, 415)


def test_delete_removes_the_user_and_its_email_key(stack):
    user = create(stack, {"name": "Gone", "email": "gone@example.com"})
    resp = send(stack, "DELETE", f"/v1/users/{user['id']}")
    assert resp.status == 204 and resp.body == b"", resp
    assert etcd_get(stack, f"users/{user['id']}") is None
    assert etcd_get(stack, "index/users/email/gone@example.com") is None
    assert_problem(send(stack, "GET", f"/v1/users/{user['id']}"), 404, "user_not_found")
    assert_problem(send(stack, "DELETE", f"/v1/users/{user['id']}"), 404, "user_not_found")
    assert_problem(send(stack, "PUT", f"/v1/users/{user['id']}", {"name": "x"},
                        headers={"If-Match": "*"}), 404, "user_not_found")


def test_ids_that_are_no_names_are_refused(stack):
    for method in ("GET", "PUT", "PATCH"):
        resp = send(stack, method, "/v1/users/-bad", {"name": "x"} if method != "GET" else None)
        assert_problem(resp, 400, "invalid_key")


# -- preconditions

def test_if_match_and_if_none_match(stack):
    user = create(stack, {"name": "Cond", "email": "cond@example.com"})
    uid, rev = user["id"], user["revision"]
    stale = send(stack, "PUT", f"/v1/users/{uid}", {"name": "x"},
                 headers={"If-Match": f'"{rev + 1000}"'})
    assert_problem(stale, 412, "revision_mismatch")
    assert_problem(send(stack, "PATCH", f"/v1/users/{uid}", {"age": 3},
                        headers={"If-Match": 'W/"%d"' % rev}), 412, "revision_mismatch")
    assert_problem(send(stack, "DELETE", f"/v1/users/{uid}",
                        headers={"If-Match": f'"{rev + 1000}"'}), 412, "revision_mismatch")
    assert_problem(send(stack, "PATCH", f"/v1/users/{uid}", {"age": 3},
                        headers={"If-Match": "42"}), 400, "invalid_precondition")
    ok = send(stack, "PATCH", f"/v1/users/{uid}", {"age": 3},
              headers={"If-Match": f'"1", "{rev}"'})
    assert ok.status == 200, ok
    # The body's revision, as flags honour it: a stale one is a 409.
    stale = send(stack, "PUT", f"/v1/users/{uid}", {"name": "y", "revision": rev})
    assert_problem(stale, 409, "revision_mismatch")
    fresh = send(stack, "PUT", f"/v1/users/{uid}",
                 {**ok.json(), "name": "Fresh", "revision": ok.json()["revision"]})
    assert fresh.status == 200 and fresh.json()["name"] == "Fresh", fresh
    deleted = send(stack, "DELETE", f"/v1/users/{uid}",
                   headers={"If-Match": f'"{fresh.json()["revision"]}"'})
    assert deleted.status == 204, deleted


# -- validation

def test_every_bad_field_is_named_in_one_400(stack):
    resp = send(stack, "POST", "/v1/users",
                {"name": 5, "email": "not-an-email", "age": 151, "nome": "x"})
    assert_problem(resp, 400, "validation_failed")
    assert set(errors_of(resp)) == {"name", "email", "age", "nome"}, resp.json()


def test_name_rules(stack):
    for bad in (None, 5, True, [], {}, "", "x" * 201, "é" * 201):
        resp = send(stack, "POST", "/v1/users", {"name": bad} if bad is not None else {})
        assert_problem(resp, 400, "validation_failed")
        assert "name" in errors_of(resp), (bad, resp.json())
    for good in ("x", "é" * 200, "\U0001F600" * 200, " spaced "):
        assert send(stack, "POST", "/v1/users", {"name": good}).status == 201, good


def test_email_rules(stack):
    for bad in (5, True, [], {}, "", "plain", "a@", "@b.com", "a b@c.com", "a@b..com",
                "a@-b.com", "a@b-.com", "a@b_c.com", "ação@x.com", "a@x.com.",
                "x" * 65 + "@x.com", "a@" + "b" * 64 + ".com",
                "a@" + ".".join(["b" * 60] * 5) + ".com"):
        resp = send(stack, "POST", "/v1/users", {"name": "e", "email": bad})
        assert_problem(resp, 400, "validation_failed")
        assert "email" in errors_of(resp), (bad, resp.json())
    for good in ("a@b", "first.last+tag@sub.example.co", "o'neil@x.org", "A_B@X-Y.Z9"):
        resp = send(stack, "POST", "/v1/users", {"name": "e", "email": good})
        assert resp.status == 201, (good, resp)
    # null is no email.
    resp = send(stack, "POST", "/v1/users", {"name": "e", "email": None})
    assert resp.status == 201 and "email" not in resp.json(), resp


def test_age_rules(stack):
    for bad in ("28", 28.5, 28.0, 1e2, True, [], {}, -1, 151, 2 ** 63, 2 ** 64 - 1):
        resp = send(stack, "POST", "/v1/users", {"name": "a", "age": bad})
        assert_problem(resp, 400, "validation_failed")
        assert "age" in errors_of(resp), (bad, resp.json())
    for good in (0, 150, 42):
        resp = send(stack, "POST", "/v1/users", {"name": "a", "age": good})
        assert resp.status == 201 and resp.json()["age"] == good, resp


def test_bodies_that_are_no_object(stack):
    for raw in (b"[]", b'"x"', b"3", b"null", b'{"name":"a","name":"b"}', b"{"):
        assert_problem(send(stack, "POST", "/v1/users", raw=raw), 400)


# -- email uniqueness

def test_emails_are_unique_in_any_case(stack):
    first = create(stack, {"name": "One", "email": "Dup@Example.COM"})
    assert_problem(send(stack, "POST", "/v1/users", {"name": "Two", "email": "dup@example.com"}),
                   409, "email_taken")
    other = create(stack, {"name": "Three", "email": "three@example.com"})
    assert_problem(send(stack, "PATCH", f"/v1/users/{other['id']}", {"email": "DUP@example.com"},
                        headers=PATCH), 409, "email_taken")
    assert_problem(send(stack, "PUT", f"/v1/users/{other['id']}",
                        {"name": "Three", "email": "dup@EXAMPLE.com"}), 409, "email_taken")
    # The same user may change the case of its own email.
    same = send(stack, "PATCH", f"/v1/users/{first['id']}", {"email": "dup@example.com"},
                headers=PATCH)
    assert same.status == 200, same
    assert etcd_get(stack, "index/users/email/dup@example.com") == first["id"]


def check_index_whole(stack):
    """Every index key names a user with that email; every user's email has its key."""
    out = stack.etcdctl("get", "--prefix", "/dynconf/").splitlines()
    pairs = dict(zip(out[0::2], out[1::2]))
    users = {k[len("/dynconf/users/"):]: json.loads(v) for k, v in pairs.items()
             if k.startswith("/dynconf/users/")}
    index = {k[len("/dynconf/index/users/email/"):]: v for k, v in pairs.items()
             if k.startswith("/dynconf/index/users/email/")}
    for email, uid in index.items():
        assert uid in users, f"index key {email} names missing user {uid}"
        assert users[uid].get("email", "").lower() == email, (email, users[uid])
    for uid, doc in users.items():
        if isinstance(doc.get("email"), str) and "@" in doc["email"]:
            assert index.get(doc["email"].lower()) == uid, (uid, doc)


def test_eight_concurrent_creates_of_one_email(stack):
    for round_ in range(3):
        email = f"race{round_}@example.com"
        results = [None] * 8
        start = threading.Barrier(8)

        def one(i):
            start.wait()
            results[i] = send(stack, "POST", "/v1/users", {"name": f"racer {i}", "email": email})
        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        assert statuses == [201] + [409] * 7, [(r.status, r.body[:200]) for r in results]
        for r in results:
            if r.status == 409:
                assert_problem(r, 409, "email_taken")
        winner = next(r.json() for r in results if r.status == 201)
        assert etcd_get(stack, f"index/users/email/{email}") == winner["id"]
    check_index_whole(stack)


def test_a_stale_index_key_is_taken_over(stack):
    """An index key whose user was deleted by hand does not block the email."""
    user = create(stack, {"name": "Orphan", "email": "orphan@example.com"})
    stack.etcdctl("del", f"/dynconf/users/{user['id']}")
    taker = send(stack, "POST", "/v1/users", {"name": "Taker", "email": "orphan@example.com"})
    assert taker.status == 201, taker
    assert etcd_get(stack, "index/users/email/orphan@example.com") == taker.json()["id"]


# -- lists

def test_list_filters_ordering_and_pages(stack):
    tag = "listtag"
    made = [create(stack, {"name": f"{tag} {n}", "email": f"{tag}{i}@example.com", "age": a})
            for i, (n, a) in enumerate([("Carla", 40), ("ana", 25), ("Bruno", 33),
                                        ("álvaro", 25), ("Dora", 61)])]
    resp = send(stack, "GET", f"/v1/users?name={tag}&ordering=age,-name&limit=2")
    assert resp.status == 200, resp
    page = resp.json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0, page
    assert [u["name"] for u in page["items"]] == [f"{tag} álvaro", f"{tag} ana"], page
    assert resp.headers["x-cache"] == "hit" and "x-dynconf-revision" in resp.headers
    page2 = send(stack, "GET", f"/v1/users?name={tag}&ordering=age,-name&limit=2&offset=2").json()
    assert [u["name"] for u in page2["items"]] == [f"{tag} Bruno", f"{tag} Carla"], page2
    by_name = send(stack, "GET", f"/v1/users/search?name={tag.upper()}&ordering=-name").json()
    assert [u["name"] for u in by_name["items"]] == \
        [f"{tag} álvaro", f"{tag} Dora", f"{tag} Carla", f"{tag} Bruno", f"{tag} ana"], by_name
    one = send(stack, "GET", f"/v1/users?email={tag.upper()}3@EXAMPLE.com").json()
    assert [u["id"] for u in one["items"]] == [made[3]["id"]] and one["total"] == 1, one
    found = send(stack, "GET", f"/v1/users?search={tag}4@").json()
    assert [u["id"] for u in found["items"]] == [made[4]["id"]], found
    newest = send(stack, "GET", f"/v1/users?search={tag}&ordering=-created_at&limit=1").json()
    assert newest["items"][0]["id"] == made[-1]["id"], newest
    oldest = send(stack, "GET", f"/v1/users?search={tag}&limit=1").json()
    assert oldest["items"][0]["id"] == made[0]["id"], oldest


def test_odd_search_terms(stack):
    made = create(stack, {"name": 'O"Brien (50%) *x* AND NEAR', "email": "obrien@example.com"})
    for term in ('"br', 'O"B', "(50%)", "*x*", "and near", '"', "%", "*"):
        page = send(stack, "GET", "/v1/users?" + urllib.parse.urlencode(
            {"name": term, "limit": 1000})).json()
        assert made["id"] in [u["id"] for u in page["items"]], (term, page)
    # Not UTF-8, or nothing anyone has: no match, no error.
    for raw in ("%FF%FE%FD", "%C3", "%FF", "zzzzqqqq"):
        resp = send(stack, "GET", f"/v1/users?search={raw}")
        assert resp.status == 200 and resp.json()["total"] == 0, (raw, resp)


def test_list_parameters_are_checked(stack):
    for query, code in (("ordering=nope", "invalid_ordering"), ("ordering=", "invalid_ordering"),
                        ("ordering=name,revision", "invalid_ordering"),
                        ("offset=-1", "invalid_query"), ("limit=1001", "invalid_query"),
                        ("limit=0", "invalid_query"), ("limit=x", "invalid_query"),
                        ("name=", "invalid_query"), ("name=a&name=b", "repeated_parameter")):
        assert_problem(send(stack, "GET", f"/v1/users?{query}"), 400, code)
    assert_problem(send(stack, "GET", "/v1/users/search"), 400, "invalid_query")
    assert send(stack, "GET", "/v1/users?limit=1000&offset=0").status == 200


# -- straight into etcd

def test_users_written_with_etcdctl_are_searchable_within_a_second(stack):
    doc = {"name": "Etcdctl Zuleika", "email": "zuleika@example.com", "age": 77}
    stack.etcdctl("put", "/dynconf/users/by-hand-1", json.dumps(doc))
    started = time.monotonic()
    found = wait_until(lambda: send(stack, "GET", "/v1/users?name=zulei").json()["items"],
                       timeout=1.0, what="the etcdctl user in a search")
    assert time.monotonic() - started < 1.0
    assert found[0]["id"] == "by-hand-1" and found[0]["age"] == 77, found
    # Times it lacks are when this node first saw it.
    assert re.fullmatch(r"\d{4}-.*Z", found[0]["created_at"]), found
    stack.etcdctl("del", "/dynconf/users/by-hand-1")
    wait_until(lambda: send(stack, "GET", "/v1/users?name=zulei").json()["total"] == 0,
               timeout=1.0, what="the etcdctl delete in a search")


def test_bad_documents_in_etcd_are_skipped_and_logged(stack):
    good = create(stack, {"name": "Neighbour Quixote"})
    bad = {"bad-json": "{not json", "bad-name": '{"email":"x@y.z"}',
           "bad-age": '{"name":"Quixote age","age":"old"}',
           "bad-email": '{"name":"Quixote mail","email":"nope"}',
           "bad-type": '["Quixote"]', "bad-seed": '{"name":"Quixote","nome":"q"}'}
    for key, text in bad.items():
        stack.etcdctl("put", f"/dynconf/users/{key}", text)
    stack.etcdctl("put", "/dynconf/users/fine-after", '{"name":"Quixote fine"}')
    wait_until(lambda: send(stack, "GET", "/v1/users/fine-after").status == 200, timeout=2.0,
               what="the good user after the bad ones")
    page = send(stack, "GET", "/v1/users?name=quixote&limit=1000").json()
    assert sorted(u["id"] for u in page["items"]) == sorted([good["id"], "fine-after"]), page
    assert page["total"] == 2, page
    for key in bad:
        assert_problem(send(stack, "GET", f"/v1/users/{key}"), 500, "corrupt_document")
        assert send(stack, "DELETE", f"/v1/users/{key}").status == 204
    log = stack.pool.log_text()
    for key in bad:
        assert f"users/{key}" in log, f"no log line names users/{key}"
    assert send(stack, "GET", "/v1/health").status == 200


def test_a_cold_node_builds_the_index_from_its_snapshot(stack):
    """More keys than a snapshot page holds (10,000): a second pool on an
    empty replica loads them all, users index included."""
    def b64(text):
        return base64.b64encode(text.encode()).decode()

    ops, made = [], 6000
    for i in range(made):
        uid, email = f"snap-{i:05d}", f"snap{i}@example.com"
        doc = {"name": f"Snapshotte {'Ávila' if i % 3 else 'Braga'} {i}", "email": email,
               "age": i % 151}
        ops += [{"request_put": {"key": b64(f"/dynconf/users/{uid}"), "value": b64(json.dumps(doc))}},
                {"request_put": {"key": b64(f"/dynconf/index/users/email/{email}"),
                                 "value": b64(uid)}}]
        if len(ops) >= 128 or i == made - 1:
            req = urllib.request.Request(stack.etcd.url + "/v3/kv/txn", method="POST",
                                         data=json.dumps({"success": ops}).encode())
            urllib.request.urlopen(req, timeout=30).read()
            ops = []
    with harness.Stack(processes=1, etcd=False,
                       overrides={"etcd.endpoints": stack.etcd.url}) as cold:
        loaded = wait_until(lambda: re.search(r"snapshot loaded: (\d+) keys",
                                              cold.pool.log_text()),
                            timeout=60, what="the cold node's snapshot")
        keys = int(loaded.group(1))
        assert keys >= 2 * made, keys
        for query, expected in (([("name", "snapshotte")], made),
                                ([("name", "ávila"), ("search", "snapshotte")], 4000),
                                ([("name", "BRAGA"), ("search", "snap")], 2000),
                                ([("search", "snap59")], 111),
                                ([("name", "á"), ("search", "snapshotte")], 4000),
                                ([("email", "SNAP42@example.com")], 1)):
            page = json.loads(cold.request("GET", "/v1/users?" + urllib.parse.urlencode(
                query + [("limit", 3)])).body)
            assert page["total"] == expected, (query, page["total"])
        last = json.loads(cold.request("GET", "/v1/users?name=snapshotte&ordering=-age,-name"
                                       "&limit=1").body)["items"][0]
        oldest = max((i for i in range(made) if i % 151 == 150),
                     key=lambda i: f"snapshotte {'ávila' if i % 3 else 'braga'} {i}".encode())
        assert last["age"] == 150 and last["id"] == f"snap-{oldest:05d}", last


def test_with_etcd_down_reads_answer_and_writes_refuse(stack):
    """Last: it stops this module's etcd. Lists and searches come from the
    replica (stale), writes are 503 and change nothing."""
    made = create(stack, {"name": "Before The Outage", "email": "outage@example.com"})
    stack.etcd.stop()
    wait_until(lambda: send(stack, "GET", "/v1/users?name=outage").headers.get("x-cache")
               == "stale", timeout=10, what="reads marked stale")
    page = send(stack, "GET", "/v1/users?name=outage")
    assert page.status == 200 and [u["id"] for u in page.json()["items"]] == [made["id"]]
    assert send(stack, "GET", f"/v1/users/{made['id']}").status == 200
    for method, path, doc in (("POST", "/v1/users", {"name": "During"}),
                              ("PATCH", f"/v1/users/{made['id']}", {"age": 3}),
                              ("DELETE", f"/v1/users/{made['id']}", None)):
        resp = send(stack, method, path, doc)
        assert_problem(resp, 503, "store_unavailable")
        assert resp.headers.get("retry-after"), resp.headers
    after = send(stack, "GET", f"/v1/users/{made['id']}").json()
    assert after == made, (after, made)
