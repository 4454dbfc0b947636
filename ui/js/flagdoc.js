// Flag documents (API.md §5) as the flag pages read and write them.

import { get, ifMatch, listAll, request } from './api.js';
import { seg } from './dom.js';

const SERVER_FIELDS = ['key', 'revision', 'created_at', 'updated_at'];

// What a write sends: the document without what the server sets.
export function flagBody(doc) {
  const body = { ...doc };
  for (const f of SERVER_FIELDS) delete body[f];
  return body;
}

export const flagPath = (key, env) => ({ path: `/v1/flags/${seg(key)}`, query: { env } });

export async function readFlag(key, env, force = false) {
  const { path, query } = flagPath(key, env);
  return (await get(path, { query: { ...query, force: force ? 'true' : undefined } })).body;
}

// Replace the flag at the revision it was read at (412 when it moved on).
export async function updateFlag(key, env, body, revision) {
  const { path, query } = flagPath(key, env);
  return (await request('POST', path, { query, body, headers: ifMatch(revision) })).body;
}

export async function setEnabled(doc, env, enabled) {
  return updateFlag(doc.key, env, { ...flagBody(doc), enabled }, doc.revision);
}

export async function environmentNames() {
  try {
    const { items } = await listAll('/v1/environments');
    const names = items.map((e) => e.name);
    return names.includes('default') ? names : ['default', ...names];
  } catch {
    return ['default'];
  }
}
