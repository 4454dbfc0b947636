"""The Flask + etcd seed's own API (API.md section 7, seed form) on a pool
with authentication on: the README's "Coming from the Flask + etcd app"
examples with a token added give the seed's answers; /usuarios and
/v1/users are the same users; /config/{k} {"valor"} is the config entry
app/{k}; every error on a seed route carries "erro"; the scopes are
users:read / users:write and config:read / config:write.
"""

import json
import os
import re
import subprocess

import harness
from harness import assert_problem

JSON = {"Content-Type": "application/json"}
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def module_fixture():
    with harness.Stack(processes=2, overrides={"auth.mode": "on"}) as stack:
        done = subprocess.run([harness.REPO / "dynconfctl", "-c", stack.pool.conf_path,
                               "token", "create", "--name", "admin", "--scopes", "admin"],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        stack.admin = done.stdout.strip()
        harness.wait_until(lambda: call(stack, "GET", "/v1/tokens").status == 200,
                           timeout=5, what="the bootstrap token to work")
        yield stack


def call(stack, method, path, doc=None, token=None, headers=None, raw=None):
    h = {"Authorization": f"Bearer {token or stack.admin}", **(headers or {})}
    body = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else None)
    if body is not None:
        h = {**JSON, **h}
    return stack.request(method, path, body=body, headers=h)


def token_with(stack, scopes):
    resp = call(stack, "POST", "/v1/tokens", {"name": "seed-" + scopes[0].replace(":", "-"),
                                              "scopes": scopes})
    assert resp.status == 201, resp
    return resp.json()["token"]


def seed_problem(resp, status, code=None):
    """A problem document with the seed's "erro": the message."""
    doc = assert_problem(resp, status, code)
    assert doc.get("erro") == doc["detail"], doc
    return doc


def test_readme_examples(stack):
    """README.md, "Coming from the Flask + etcd app", in order."""
    created = call(stack, "POST", "/usuarios",
                   {"nome": "Maria Silva", "email": "maria@example.com", "idade": 28})
    assert created.status == 201, created
    body = created.json()
    uid = body["id"]
    assert UUID4.fullmatch(uid), body
    assert body == {"mensagem": "Usuário criado com sucesso", "id": uid,
                    "chave": f"/dynconf/users/{uid}"}, body
    user = {"_id": uid, "nome": "Maria Silva", "email": "maria@example.com", "idade": 28}
    listed = call(stack, "GET", "/usuarios")
    assert listed.status == 200 and listed.json() == [user], listed
    got = call(stack, "GET", f"/usuarios/{uid}")
    assert got.status == 200 and got.json() == user, got
    found = call(stack, "GET", "/usuarios/buscar?nome=maria")
    assert found.status == 200 and found.json() == [user], found
    assert call(stack, "GET", "/usuarios/buscar?nome=pedro").json() == []
    updated = call(stack, "PUT", f"/usuarios/{uid}",
                   {"nome": "Maria Souza", "email": "maria@example.com", "idade": 29})
    assert updated.status == 200, updated
    assert updated.json() == {"mensagem": "Usuário atualizado", "id": uid}, updated
    assert call(stack, "GET", f"/usuarios/{uid}").json()["nome"] == "Maria Souza"
    gone = call(stack, "DELETE", f"/usuarios/{uid}")
    assert gone.status == 200 and gone.json() == {"mensagem": "Usuário deletado", "id": uid}
    assert call(stack, "GET", "/usuarios").json() == []
    put = call(stack, "PUT", "/config/timeout", {"valor": 30})
    assert put.status == 200 and put.json() == {"mensagem": "Configuração atualizada"}, put
    got = call(stack, "GET", "/config/timeout")
    assert got.status == 200 and got.json() == {"timeout": 30}, got


def test_seed_and_v1_are_the_same_users(stack):
    seeded = call(stack, "POST", "/usuarios", {"nome": "João", "email": "Joao@Example.org",
                                                "idade": 41, "cidade": "Lisboa",
                                                "ativo": True, "tags": []})
    assert seeded.status == 201, seeded
    sid = seeded.json()["id"]
    english = call(stack, "GET", f"/v1/users/{sid}").json()
    assert english["name"] == "João" and english["age"] == 41, english
    assert english["cidade"] == "Lisboa" and english["ativo"] is True and english["tags"] == []
    assert "nome" not in english and "idade" not in english, english
    made = call(stack, "POST", "/v1/users", {"name": "Joana", "age": 9, "hobby": {"x": 0}})
    assert made.status == 201, made
    mid = made.json()["id"]
    portuguese = call(stack, "GET", f"/usuarios/{mid}").json()
    assert portuguese == {"_id": mid, "nome": "Joana", "idade": 9, "hobby": {"x": 0}}, portuguese
    found = call(stack, "GET", "/usuarios/buscar?nome=JO").json()
    assert sorted(u["_id"] for u in found) == sorted([sid, mid]), found
    # One email, whichever form writes it.
    seed_problem(call(stack, "POST", "/usuarios", {"nome": "x", "email": "joao@example.org"}),
                 409, "email_taken")
    assert_problem(call(stack, "POST", "/v1/users", {"name": "x", "email": "JOAO@example.org"}),
                   409, "email_taken")
    # The seed's PUT replaces the user whole, and may send back what it read.
    replaced = call(stack, "PUT", f"/usuarios/{sid}", {**call(stack, "GET",
                    f"/usuarios/{sid}").json(), "cidade": "Porto", "ativo": None})
    assert replaced.status == 200, replaced
    after = call(stack, "GET", f"/v1/users/{sid}").json()
    assert after["cidade"] == "Porto" and after["ativo"] is None, after
    # Each form refuses the other's names: they would stand for one field twice.
    resp = call(stack, "POST", "/usuarios", {"nome": "x", "name": "y", "age": 3, "id": "z"})
    doc = seed_problem(resp, 400, "validation_failed")
    assert {e["field"] for e in doc["errors"]} == {"name", "age", "id"}, doc
    resp = call(stack, "POST", "/v1/users", {"name": "x", "idade": 3})
    assert_problem(resp, 400, "validation_failed")


def test_every_seed_error_carries_erro(stack):
    seed_problem(call(stack, "GET", "/usuarios/no-such-user"), 404, "user_not_found")
    seed_problem(call(stack, "PUT", "/usuarios/no-such-user", {"nome": "x"}), 404,
                 "user_not_found")
    seed_problem(call(stack, "DELETE", "/usuarios/no-such-user"), 404, "user_not_found")
    seed_problem(call(stack, "GET", "/usuarios/buscar"), 400, "invalid_query")
    seed_problem(call(stack, "GET", "/usuarios/buscar?nome="), 400, "invalid_query")
    doc = seed_problem(call(stack, "POST", "/usuarios", {"email": "bad", "idade": "28"}), 400,
                       "validation_failed")
    assert {e["field"] for e in doc["errors"]} == {"nome", "email", "idade"}, doc
    seed_problem(call(stack, "POST", "/usuarios", raw=b"{"), 400, "invalid_json")
    seed_problem(call(stack, "POST", "/usuarios", raw=b"{}", headers={
        "Content-Type": "text/plain"}), 415)
    seed_problem(call(stack, "PATCH", "/usuarios/x", {"nome": "y"}), 405)
    seed_problem(call(stack, "GET", "/usuarios/-bad"), 400, "invalid_key")
    seed_problem(call(stack, "GET", "/config/nothing-here"), 404, "config_not_found")
    seed_problem(call(stack, "PUT", "/config/x", {"value": 1}), 400, "unknown_field")
    seed_problem(stack.request("GET", "/usuarios"), 401, "unauthenticated")
    reader = token_with(stack, ["users:read"])
    seed_problem(call(stack, "POST", "/usuarios", {"nome": "x"}, token=reader), 403,
                 "insufficient_scope")
    # The English routes keep the plain problem document.
    doc = assert_problem(call(stack, "GET", "/v1/users/no-such-user"), 404, "user_not_found")
    assert "erro" not in doc, doc


def test_config_valor_is_the_config_entry_app_k(stack):
    for value in (30, "30", {"a": [1, None]}, None, True, 1.5, [], "ação"):
        resp = call(stack, "PUT", "/config/mixed", {"valor": value})
        assert resp.status == 200, resp
        assert call(stack, "GET", "/config/mixed").json() == {"mixed": value}
        assert call(stack, "GET", "/v1/config/app/mixed").json()["value"] == value
    english = call(stack, "PUT", "/v1/config/app/from-v1", {"value": {"x": 1}})
    assert english.status == 201, english
    assert call(stack, "GET", "/config/from-v1").json() == {"from-v1": {"x": 1}}
    assert call(stack, "GET", "/config/a/b").status == 404
    assert call(stack, "PUT", "/config/a/b", {"valor": 2}).status == 200
    assert call(stack, "GET", "/v1/config/app/a/b").json()["value"] == 2
    seed_problem(call(stack, "PUT", "/config/bad%20key", {"valor": 1}), 400, "invalid_key")
    seed_problem(call(stack, "PUT", "/config/x", {}), 400)


def test_scopes(stack):
    users_read, users_write = token_with(stack, ["users:read"]), token_with(stack, ["users:write"])
    config_read = token_with(stack, ["config:read"])
    config_write = token_with(stack, ["config:write"])
    made = call(stack, "POST", "/usuarios", {"nome": "Scoped"}, token=users_write)
    assert made.status == 201, made
    uid = made.json()["id"]
    for path in ("/usuarios", f"/usuarios/{uid}", "/usuarios/buscar?nome=sco",
                 f"/v1/users/{uid}", "/v1/users?name=sco"):
        assert call(stack, "GET", path, token=users_read).status == 200, path
        assert call(stack, "GET", path, token=users_write).status == 200, path
        assert call(stack, "GET", path, token=config_write).status == 403, path
    assert call(stack, "PUT", f"/usuarios/{uid}", {"nome": "S"}, token=users_read).status == 403
    assert call(stack, "PATCH", f"/v1/users/{uid}", {"age": 1}, token=users_read).status == 403
    assert call(stack, "PUT", "/config/scoped", {"valor": 1}, token=config_write).status == 200
    assert call(stack, "GET", "/config/scoped", token=config_read).status == 200
    assert call(stack, "PUT", "/config/scoped", {"valor": 1}, token=config_read).status == 403
    assert call(stack, "GET", "/config/scoped", token=users_write).status == 403
    assert call(stack, "DELETE", f"/usuarios/{uid}", token=users_write).status == 200


def test_bulk_load_script(stack):
    """contrib/users-load, as the README shows it: every line a create."""
    lines = [json.dumps({"nome": f"Carga {i} \"ç\" \\", "email": f"carga{i}@x.org",
                         "idade": i % 100, "extra": {"i": i}}, ensure_ascii=False)
             for i in range(300)]
    lines.insert(150, "")                                   # blank lines are skipped
    lines.append(json.dumps({"nome": "Dup", "email": "CARGA7@x.org"}))
    path = stack.workdir / "users.ndjson"
    path.write_text("\n".join(lines) + "\n")
    url = f"http://127.0.0.1:{stack.nginx.port}"
    done = subprocess.run([harness.REPO / "contrib" / "users-load", "--seed", "--parallel", "8",
                           url, path], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DYNCONF_TOKEN": stack.admin})
    assert done.returncode == 1, (done.stdout, done.stderr)     # one was refused
    counts = {line.split()[1]: int(line.split()[0]) for line in done.stdout.splitlines()}
    assert counts == {"201": 300, "409": 1}, done.stdout
    assert stack.admin not in done.stdout + done.stderr
    found = call(stack, "GET", "/usuarios/buscar?nome=carga").json()
    assert len(found) == 300, len(found)
    one = next(u for u in found if u["email"] == "carga7@x.org")
    assert one["nome"] == 'Carga 7 "ç" \\' and one["idade"] == 7 and one["extra"] == {"i": 7}
