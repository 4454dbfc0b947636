// JWTs from an identity provider's JWKS (API.md §2), minted with jose the
// way Auth0 mints access tokens: kid header, iss, aud as a string or an
// array, scope string, permissions array. The test serves the JWKS document
// itself on DYNCONF_JWKS_PORT, where the pool's auth.jwks_url points
// (auth.jwks_refresh = 4 s, auth.jwks_min_interval = 1 s).
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, after, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

import { BASE, api, sleep } from './lib.mjs';

const PORT = Number(process.env.DYNCONF_JWKS_PORT);
const ISSUER = process.env.DYNCONF_JWT_ISSUER;
const AUDIENCE = process.env.DYNCONF_JWT_AUDIENCE;

const keys = {};	// kid -> { privateKey, jwk, alg }
let published = [];	// the kids in the served document
let server;
let hits = 0;

async function makeKey(kid, alg) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  keys[kid] = { privateKey, jwk, alg };
}

function serve() {
  server = http.createServer((req, res) => {
    hits++;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: published.map((kid) => keys[kid].jwk) }));
  });
  return new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
}

// An access token as Auth0 issues it.
async function token(kid, { scope = 'openid profile flags:read', permissions = [],
  aud = [AUDIENCE, 'https://dynconf-test.eu.auth0.com/userinfo'], iss = ISSUER } = {}) {
  const { privateKey, alg } = keys[kid];
  return new SignJWT({ scope, permissions, azp: 'dynconf-client', gty: 'client-credentials' })
    .setProtectedHeader({ alg, typ: 'JWT', kid })
    .setIssuer(iss)
    .setSubject('auth0|clients-test')
    .setAudience(aud)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime('10m')
    .sign(privateKey);
}

const bearer = (jwt) => ({ Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' });
const readFlags = async (jwt) => (await api('GET', '/v1/flags', undefined, bearer(jwt))).status;

before(async () => {
  await makeKey('rsa-1', 'RS256');
  await makeKey('ec-1', 'ES256');
  await makeKey('rsa-2', 'RS256');
  await makeKey('stray', 'RS256');
  published = ['rsa-1', 'ec-1'];
  await serve();
  // The pool tried at its start, before this server listened; failed
  // fetches are retried no faster than auth.jwks_min_interval (1 s).
  await sleep(1100);
});

after(() => server?.close());

test('an RS256 and an ES256 token from the JWKS, chosen by kid', async () => {
  assert.equal(await readFlags(await token('rsa-1')), 200);
  assert.equal(await readFlags(await token('ec-1')), 200);
  assert.ok(hits >= 1, 'the JWKS document was fetched');
});

test('aud as a string or an array; scope and permissions both grant scopes', async () => {
  assert.equal(await readFlags(await token('rsa-1', { aud: AUDIENCE })), 200);
  // flags:write from the permissions array, as Auth0's RBAC puts it.
  const writer = await token('ec-1', { scope: 'openid', permissions: ['flags:write'] });
  const put = await api('PUT', '/v1/flags/jwks-made', { value: true }, bearer(writer));
  assert.equal(put.status, 201, put.text);
  const reader = await token('ec-1', { scope: 'openid flags:read' });
  const denied = await api('PUT', '/v1/flags/jwks-made', { value: false }, bearer(reader));
  assert.equal(denied.status, 403);
  assert.equal(await readFlags(await token('rsa-1', { aud: 'https://someone.else/' })), 401);
  assert.equal(await readFlags(await token('rsa-1', { iss: 'https://evil.example/' })), 401);
});

test('an unknown kid is refused, and fetches the document at most once per interval', async () => {
  await sleep(1100);	// past auth.jwks_min_interval since the last fetch
  const before = hits;
  for (let i = 0; i < 6; i++)
    assert.equal(await readFlags(await token('stray')), 401);
  assert.ok(hits - before <= 1, `${hits - before} fetches for unknown kids`);
});

test('a rotated key is picked up without a restart', async () => {
  published = ['rsa-2', 'ec-1'];
  await sleep(1100);
  const jwt = await token('rsa-2');
  // Every responder (two) takes it, however the requests are spread.
  for (let i = 0; i < 6; i++)
    assert.equal(await readFlags(jwt), 200);
  assert.equal(await readFlags(await token('ec-1')), 200);
});

test('the JWKS host going away keeps the keys there are', async () => {
  await new Promise((resolve) => server.close(resolve));
  server = undefined;
  // Past a scheduled refresh (4 s), which fails.
  await sleep(5000);
  for (let i = 0; i < 4; i++) {
    assert.equal(await readFlags(await token('rsa-2')), 200);
    assert.equal(await readFlags(await token('ec-1')), 200);
  }
  assert.equal(await readFlags(await token('stray')), 401);
  // And back: a new key shows up again.
  published = ['rsa-2', 'ec-1', 'rsa-1'];
  await serve();
  await sleep(1100);
  assert.equal(await readFlags(await token('rsa-1')), 200);
});
