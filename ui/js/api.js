// The UI's only way to dynconf: the public /v1 API, with the token the
// person pasted. The token lives in this tab's sessionStorage: never in a
// URL (the page's address holds only the page and its filters), never in
// a cookie (requests send none: credentials 'omit'), gone when the tab is.
//
// Every answer tells whether etcd was reachable: a read served from the
// replica alone says X-Cache: stale, a write answers 503
// store_unavailable. Listeners (app.js) hear of it to show the banner and
// turn edits off.

const TOKEN_KEY = 'dynconf.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  save: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

const listeners = { cache: [], unauthorized: [] };

export function on(event, fn) {
  listeners[event].push(fn);
}

function emit(event, ...args) {
  for (const fn of listeners[event]) fn(...args);
}

// A failed request: status, the problem document (RFC 9457) when there is
// one, and a sentence for people.
export class ApiError extends Error {
  constructor(status, problem, text, headers) {
    super(ApiError.describe(status, problem, text));
    this.status = status;
    this.problem = problem ?? null;
    this.code = problem?.code ?? null;
    this.headers = headers;
  }

  static describe(status, problem, text) {
    if (problem && typeof problem === 'object') {
      const fields = Array.isArray(problem.errors) ?
        problem.errors.map((e) => `${e.field || 'body'}: ${e.message}`) : [];
      const detail = problem.detail ?? problem.title ?? '';
      return [`${status} ${problem.code ?? ''}`.trim() + (detail ? `: ${detail}` : ''),
        ...fields].join('; ');
    }
    if (status === 0) return `the request failed: ${text}`;
    return `${status}: ${(text || '').slice(0, 200)}`;
  }
}

// One request. opts: body (JSON), headers, signal, query (object).
// Resolves to {status, body, headers, revision, etag}; rejects with an
// ApiError for any status >= 400 or a network failure (status 0).
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...opts.headers };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    if ([...q].length) url += (url.includes('?') ? '&' : '?') + q.toString();
  }
  let res;
  try {
    res = await fetch(url, {
      method, headers, body, signal: opts.signal, cache: 'no-store',
      credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, e.message);
  }
  const cache = res.headers.get('X-Cache');
  if (cache) emit('cache', cache);
  const text = await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (res.status === 401 && token) emit('unauthorized');
  if (res.status === 503 && json?.code === 'store_unavailable') emit('cache', 'stale');
  if (!res.ok) throw new ApiError(res.status, json, text, res.headers);
  const revision = Number(res.headers.get('X-Dynconf-Revision'));
  return {
    status: res.status, body: json, text, headers: res.headers,
    revision: Number.isFinite(revision) ? revision : null,
    etag: res.headers.get('ETag'),
  };
}

export const get = (path, opts) => request('GET', path, opts);

// A document's revision as an If-Match value.
export const ifMatch = (revision) => ({ 'If-Match': `"${revision}"` });
export const ifNone = { 'If-None-Match': '*' };

// Every item of a list route (limit 1000 a page), up to max items.
export async function listAll(path, query = {}, max = 5000) {
  const items = [];
  let offset = 0;
  let revision = null;
  let total = 0;
  for (;;) {
    const r = await get(path, { query: { ...query, limit: 1000, offset } });
    revision ??= r.revision;
    total = r.body.total;
    items.push(...r.body.items);
    offset += r.body.limit;
    if (offset >= total || r.body.items.length === 0 || items.length >= max) break;
  }
  return { items, total, revision };
}
