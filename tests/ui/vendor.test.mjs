// ui/vendor/swagger-ui holds swagger-ui-dist's files unchanged, at the
// version package-lock.json pins: what /v1/docs serves is the npm
// package's own code, with its licence.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const REPO = process.env.DYNCONF_REPO ?? path.resolve(import.meta.dirname, '../..');

test('ui/vendor/swagger-ui is swagger-ui-dist, unchanged, with its licence', () => {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const lock = JSON.parse(readFileSync(path.join(import.meta.dirname, 'package-lock.json'), 'utf8'));
  const version = JSON.parse(readFileSync(path.join(dist, 'package.json'), 'utf8')).version;
  assert.equal(version, lock.packages['node_modules/swagger-ui-dist'].version);
  const vendored = readdirSync(path.join(REPO, 'ui/vendor/swagger-ui')).sort();
  assert.ok(vendored.includes('LICENSE') && vendored.includes('swagger-ui-bundle.js'), vendored.join(' '));
  for (const name of vendored) {
    assert.ok(readFileSync(path.join(REPO, 'ui/vendor/swagger-ui', name))
      .equals(readFileSync(path.join(dist, name))), `${name} differs from swagger-ui-dist ${version}'s`);
  }
});
