// /v1/openapi.json validated by a real OpenAPI validator
// (@apidevtools/swagger-parser), and held to the route table: every route
// of src/resources/routes.c is in it, and it names no route that is not.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';

import { BASE, api } from './lib.mjs';

const REPO = process.env.DYNCONF_REPO;

// "GET /v1/flags/{key}" for every row of the route table, from the source.
function routeTable() {
  const text = readFileSync(`${REPO}/src/resources/routes.c`, 'utf8');
  const rows = [...text.matchAll(/\.method = HTTP_(\w+),\s+\.pattern = "([^"]+)"/g)];
  assert.ok(rows.length > 30, `only ${rows.length} routes found in routes.c`);
  return rows.map(([, method, pattern]) => `${method} ${pattern.replace('...}', '}')}`).sort();
}

async function served() {
  const r = await api('GET', '/v1/openapi.json', undefined, {});
  assert.equal(r.status, 200);
  return r.json;
}

test('the document validates as OpenAPI 3.1', async () => {
  const doc = await served();
  assert.equal(doc.openapi, '3.1.0');
  // validate() dereferences in place: give it a copy.
  const checked = await SwaggerParser.validate(structuredClone(doc));
  assert.ok(checked.paths);
});

test('it describes exactly the routes of the route table', async () => {
  const doc = await served();
  const documented = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item))
      documented.push(`${method.toUpperCase()} ${path}`);
  assert.deepEqual(documented.sort(), routeTable());
});

test('every operation has parameters, a response schema and its request body', async () => {
  const doc = await served();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.summary, where);
      const ok = Object.entries(op.responses).filter(([code]) => /^2/.test(code));
      assert.ok(ok.length > 0, `${where}: no success response`);
      for (const [code, response] of ok)
        if (code !== '204')
          assert.ok(response.content, `${where} ${code}: no schema`);
      for (const name of path.match(/\{(\w+)\}/g) ?? [])
        assert.ok(op.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name),
          `${where}: path parameter ${name}`);
    }
  }
  const evaluate = doc.paths['/ofrep/v1/evaluate/flags/{key}'].post;
  assert.ok(evaluate.requestBody.content['application/json'].schema.properties.context);
  assert.ok(doc.paths['/v1/segments/{name}'].put.requestBody);
  assert.ok(doc.paths['/api/v1/identities/'].get.parameters
    .some((p) => p.name === 'identifier' && p.required));
});

test('a documented route is served, and an undocumented one is not', async () => {
  const doc = await served();
  for (const path of Object.keys(doc.paths)) {
    const concrete = path.replace(/\{\w+\}/g, 'x');
    const r = await fetch(BASE + concrete, { method: 'OPTIONS' });
    // A routed path answers 405 with Allow for a method it lacks.
    assert.equal(r.status, 405, `${path}: ${r.status}`);
  }
  const r = await fetch(`${BASE}/v1/not-a-route`);
  assert.equal(r.status, 404);
});
