"""User search against a brute-force oracle (API.md section 7): random names
with accents and mixed case, substrings of 1, 2 and 3 characters and longer
ones, ?name= (the name), ?search= (the name or the email) and ?email=, with
orderings and pages; checked again after renames, deletes and users written
straight into etcd. The oracle folds case per character as the server does
(Unicode's simple lowercase mapping) and compares the folded texts.
"""

import json
import random
import time
import urllib.parse

import harness
from harness import wait_until

JSON = {"Content-Type": "application/json"}
SYLLABLES = ["ma", "Ri", "JO", "ão", "Çe", "lu", "ÍS", "ñe", "Öz", "ße", "ka", "Ā", "de",
             "sil", "va", "x", "É", "ü", "Ła", "ŒU", "ÿ", "ΣΩ", "жи", "q"]
RNG = random.Random(12)


def module_fixture():
    with harness.Stack(processes=2) as stack:
        yield stack


def fold(text):
    # One character to one: the first of Python's lowercase (only İ has more).
    return "".join(c.lower()[0] for c in text)


def random_case(text):
    return "".join(c.upper() if RNG.random() < 0.5 else c.lower() for c in text)


def random_name():
    words = [("".join(RNG.choice(SYLLABLES) for _ in range(RNG.randint(1, 4))))
             for _ in range(RNG.randint(1, 3))]
    return random_case(" ".join(words))


def random_user(i):
    doc = {"name": random_name()}
    if RNG.random() < 0.7:
        doc["email"] = f"{RNG.choice(['ana', 'Rui', 'maRIA', 'zz', 'q'])}{i}@{RNG.choice(['Ex', 'silva', 'q'])}.org"
    if RNG.random() < 0.8:
        doc["age"] = RNG.randint(0, 150)
    return doc


class Oracle:
    def __init__(self):
        self.users = {}     # id -> document as the API shows it

    def matches(self, name=None, search=None, email=None):
        found = []
        for uid, u in self.users.items():
            n, e = fold(u["name"]), fold(u.get("email") or "")
            if name is not None and fold(name) not in n:
                continue
            if search is not None and fold(search) not in n and \
                    ("email" not in u or fold(search) not in e):
                continue
            if email is not None and ("email" not in u or e != fold(email)):
                continue
            found.append(uid)
        return found

    def ordered(self, ids, field, descending):
        def key(uid):
            u = self.users[uid]
            value = u.get(field)
            if field in ("name", "email") and value is not None:
                value = fold(value).encode()
            return ((0,) if value is None else (1, value), uid)
        return sorted(ids, key=key, reverse=descending)


def get(stack, query):
    resp = stack.request("GET", "/v1/users?" + urllib.parse.urlencode(query))
    assert resp.status == 200, (query, resp)
    return resp.json()


def check_query(stack, oracle, **query):
    page = get(stack, {**query, "limit": 1000})
    expected = sorted(oracle.matches(**query))
    got = sorted(u["id"] for u in page["items"])
    assert got == expected, f"{query}: got {len(got)}, expected {len(expected)}: " \
        f"missing {set(expected) - set(got)}, extra {set(got) - set(expected)}"
    assert page["total"] == len(expected), (query, page["total"], len(expected))


def substrings(oracle, length, count):
    names = [u["name"] for u in oracle.users.values()] + \
        [u["email"] for u in oracle.users.values() if "email" in u]
    out = []
    while len(out) < count:
        text = RNG.choice(names)
        if len(text) >= length:
            at = RNG.randrange(len(text) - length + 1)
            out.append(random_case(text[at:at + length]))
    # And some that are likely in no one's name.
    out += [random_case("".join(RNG.choice(SYLLABLES) for _ in range(3)))[:length]
            for _ in range(count // 3)]
    return [s for s in out if s.strip() == s and s]


def check_everything(stack, oracle):
    for length, count in ((1, 12), (2, 15), (3, 15), (4, 8), (7, 6)):
        for text in substrings(oracle, length, count):
            check_query(stack, oracle, name=text)
            check_query(stack, oracle, search=text)
    for uid in RNG.sample(sorted(oracle.users), 5):
        if "email" in oracle.users[uid]:
            check_query(stack, oracle, email=random_case(oracle.users[uid]["email"]))


def check_orderings(stack, oracle, text):
    for field, descending in (("name", False), ("name", True), ("age", True),
                              ("age", False), ("email", False)):
        ordering = ("-" if descending else "") + field
        page = get(stack, {"search": text, "ordering": ordering, "limit": 1000})
        expected = oracle.ordered(oracle.matches(search=text), field, descending)
        assert [u["id"] for u in page["items"]] == expected, (ordering, text)
        # The same, page by page.
        seen, offset = [], 0
        while offset < len(expected):
            part = get(stack, {"search": text, "ordering": ordering, "limit": 7,
                               "offset": offset})
            assert part["total"] == len(expected) and part["offset"] == offset, part
            seen += [u["id"] for u in part["items"]]
            offset += 7
        assert seen == expected, (ordering, text)


def create(stack, oracle, doc):
    resp = stack.request("POST", "/v1/users", body=json.dumps(doc).encode(), headers=JSON)
    assert resp.status == 201, resp
    oracle.users[resp.json()["id"]] = resp.json()


def test_search_matches_the_oracle(stack):
    oracle = Oracle()
    stack.oracle = oracle
    for i in range(160):
        create(stack, oracle, random_user(i))
    check_everything(stack, oracle)
    for text in ("a", "ma", "sil", "ão", "É"):
        check_orderings(stack, oracle, text)


def test_search_after_renames_deletes_and_etcd_writes(stack):
    oracle = stack.oracle
    ids = sorted(oracle.users)
    for uid in RNG.sample(ids, 30):
        resp = stack.request("PATCH", f"/v1/users/{uid}",
                             body=json.dumps({"name": random_name()}).encode(),
                             headers={"Content-Type": "application/merge-patch+json"})
        assert resp.status == 200, resp
        oracle.users[uid] = resp.json()
    for uid in RNG.sample(sorted(oracle.users), 25):
        assert stack.request("DELETE", f"/v1/users/{uid}").status == 204
        del oracle.users[uid]
    # Straight into etcd: new users, and renames of existing ones.
    for i in range(15):
        doc = {"name": random_name(), "age": RNG.randint(0, 150)}
        stack.etcdctl("put", f"/dynconf/users/etcd-{i}", json.dumps(doc))
        oracle.users[f"etcd-{i}"] = doc
    for uid in RNG.sample([u for u in sorted(oracle.users) if not u.startswith("etcd-")], 10):
        doc = {k: v for k, v in oracle.users[uid].items()
               if k not in ("id", "revision", "created_at", "updated_at")}
        doc["name"] = random_name()
        stack.etcdctl("put", f"/dynconf/users/{uid}", json.dumps(doc))
        oracle.users[uid] = doc
    stack.etcdctl("put", "/dynconf/config/search-done", "1")
    wait_until(lambda: stack.request("GET", "/v1/config/search-done").status == 200,
               timeout=2.0, what="the etcd writes to reach the replica")
    started = time.monotonic()
    check_everything(stack, oracle)
    for text in ("a", "e", "ma", "Ö"):
        check_orderings(stack, oracle, text)
    assert get(stack, {"limit": 1})["total"] == len(oracle.users)
    assert time.monotonic() - started < 60
