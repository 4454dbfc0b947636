// The admin UI's shell: sign-in with a pasted token, the navigation
// (only the pages the token may read), the router (#/page?filters), the
// banner that says etcd is unreachable, and the rule that turns every
// editing control off while it is (controls marked data-edit).

import { ApiError, get, on, session } from './api.js';
import { button, fill, h, notice, tickCountdowns } from './dom.js';

// Pages: the hash's first segment -> module, title, and the scopes of
// which the token needs one to see it (none: everyone).
const PAGES = [
  { path: 'flags', module: 'flags', title: 'Flags', needs: ['flags:read'] },
  { path: 'segments', module: 'segments', title: 'Segments', needs: ['flags:read'] },
  { path: 'environments', module: 'environments', title: 'Environments', needs: ['flags:read'] },
  { path: 'config', module: 'config', title: 'Config', needs: ['config:read'] },
  { path: 'users', module: 'users', title: 'Users', needs: ['users:read'] },
  { path: 'services', module: 'services', title: 'Services', needs: ['services:read'] },
  { path: 'locks', module: 'locks', title: 'Locks', needs: ['locks:write'] },
  { path: 'tokens', module: 'tokens', title: 'Tokens', needs: ['tokens:write'] },
  { path: 'audit', module: 'audit', title: 'Audit', needs: ['audit:read'] },
  { path: 'health', module: 'health', title: 'Health', needs: [] },
];
// Reached from other pages, not listed in the navigation.
const HIDDEN = [
  { path: 'flag', module: 'flag', title: 'Flag', needs: ['flags:read'] },
];

const state = {
  me: null, // GET /v1/whoami
  stale: false,
  flash: null, // {kind, text}: for the next page
  leave: [], // the current page's clean-ups
};

const $ = (id) => document.getElementById(id);
let rendering = 0; // which route() call draws the page now

export function can(scope) {
  const scopes = state.me?.scopes ?? [];
  return scopes.includes(scope) || scopes.includes('admin');
}

// A message for the next page shown (after a save that moves to another
// page, say), in place of the one it would have shown on this one.
export function flash(kind, text) {
  state.flash = { kind, text };
}

// Go to a page; the same page again is rendered again (after a save).
export function navigate(hash) {
  if (location.hash === hash) route(true);
  else location.hash = hash;
}

export function isStale() {
  return state.stale;
}

// -- etcd unreachable: the banner, and edits off

function applyEditable(root = document) {
  const els = root.querySelectorAll ? root.querySelectorAll('[data-edit]') : [];
  for (const el of [root, ...els]) {
    if (!(el instanceof HTMLElement) || !el.hasAttribute('data-edit')) continue;
    el.disabled = state.stale || el.dataset.blocked === 'true';
  }
}

// For a control whose own rule (e.g. the JSON is invalid) blocks it too.
export function setBlocked(el, blocked) {
  el.dataset.blocked = blocked ? 'true' : 'false';
  applyEditable(el);
}

function setStale(stale) {
  if (stale === state.stale) return;
  state.stale = stale;
  $('stale-banner').hidden = !stale;
  document.body.classList.toggle('stale', stale);
  applyEditable();
}

on('cache', (value) => {
  if (value === 'stale') setStale(true);
  else if (value === 'hit' || value === 'bypass') setStale(false);
});

on('unauthorized', () => {
  // While signing in, the form says it; once in, the token stopped working.
  if (state.me) signOut('The token was refused (expired or revoked?). Sign in again.');
});

async function pollHealth() {
  try {
    const r = await get('/v1/health');
    setStale(r.body.etcd !== 'up');
  } catch {
    // The web server or the pool is down: the pages say so themselves.
  }
}

// -- signing in and out

function signOut(message) {
  session.forget();
  state.me = null;
  rendering += 1; // a page still drawing draws no more
  leavePage();
  showLogin(message);
}

function showLogin(message) {
  $('who').replaceChildren();
  $('nav').hidden = true;
  $('menu-toggle').hidden = true;
  const input = h('input', {
    id: 'token', type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-hint',
  });
  const status = h('div', { 'aria-live': 'polite' });
  if (message) status.append(notice('warn', message));
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title', tabindex: '-1' }, 'Sign in'),
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'API token'), input,
      h('p', { class: 'hint', id: 'token-hint' },
        'Paste an API token (dynconfctl token create, or POST /v1/tokens) or a JWT. ' +
        'It stays in this browser tab only (sessionStorage), and goes to dynconf ' +
        'in the Authorization header, never in an address.')),
    h('button', { type: 'submit', class: 'btn primary' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    session.save(input.value.trim());
    fill(status);
    if (await loadMe(status)) {
      input.value = '';
      route();
    }
  });
  fill($('main'), form);
  document.title = 'Sign in · dynconf';
  input.focus();
}

// GET /v1/whoami with the stored token; false (and a message) when refused.
async function loadMe(status) {
  try {
    state.me = (await get('/v1/whoami')).body;
  } catch (e) {
    session.forget();
    state.me = null;
    const text = e instanceof ApiError && e.status === 401 ?
      'dynconf did not accept this token.' : `dynconf could not be reached: ${e.message}`;
    fill(status, notice('error', text));
    return false;
  }
  showSignedIn();
  return true;
}

function showSignedIn() {
  const me = state.me;
  fill($('who'),
    h('span', { class: 'who-name' }, 'Signed in as ', h('strong', null, me.actor || '(no name)'),
      ` (${me.kind.replace('_', ' ')})`),
    button('Sign out', () => signOut('Signed out.'), { id: 'sign-out' }));
  const links = PAGES.filter((p) => p.needs.length === 0 || p.needs.some(can))
    .map((p) => h('li', null, h('a', { href: `#/${p.path}`, 'data-page': p.path }, p.title)));
  links.push(h('li', null, h('a', { href: '/v1/docs' }, 'API docs')));
  fill($('nav-list'), links);
  $('nav').hidden = false;
  $('menu-toggle').hidden = false;
}

// -- routing

function leavePage() {
  for (const fn of state.leave.splice(0)) {
    try {
      fn();
    } catch {
      // a clean-up that fails must not keep the next page out
    }
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? '', rest: parts.slice(1), params: new URLSearchParams(queryPart) };
}

async function route(focus = false) {
  if (!state.me) return;
  const { page, rest, params } = parseHash();
  const visible = PAGES.filter((p) => p.needs.length === 0 || p.needs.some(can));
  const def = [...PAGES, ...HIDDEN].find((p) => p.path === page);
  if (!def) {
    location.replace(`#/${visible[0].path}`);
    return;
  }
  leavePage();
  const mine = ++rendering;
  for (const a of document.querySelectorAll('#nav-list a[data-page]')) {
    if (a.dataset.page === (def.path === 'flag' ? 'flags' : def.path)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('nav').classList.remove('open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
  // Each page draws into a container of its own: a page still loading
  // when the person moves on (or is signed out) draws into one that is
  // no longer shown, never over the next page.
  const main = h('div', { class: 'page' });
  fill($('main'), main);
  document.title = `${def.title} · dynconf`;
  if (def.needs.length > 0 && !def.needs.some(can)) {
    fill(main, h('h1', { tabindex: '-1' }, def.title),
      notice('warn', `This token may not read this page (it needs ${def.needs.join(' or ')}).`));
    return;
  }
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const module = await import(`./pages/${def.module}.js`);
    if (mine !== rendering) return;
    fill(main);
    await module.default({
      main, rest, params, me: state.me, can, isStale,
      // A page left before it finished drawing stops what it starts at once.
      onLeave: (fn) => (mine === rendering ? state.leave.push(fn) : fn()),
      setTitle: (title) => {
        document.title = `${title} · dynconf`;
      },
    });
  } catch (e) {
    if (mine !== rendering) return;
    fill(main, h('h1', { tabindex: '-1' }, def.title), notice('error', e.message));
  }
  if (mine !== rendering) return;
  if (state.flash) {
    const { kind, text } = state.flash;
    state.flash = null;
    const first = main.querySelector('h1');
    const note = notice(kind, text);
    if (first) first.after(note); else main.prepend(note);
  }
  applyEditable();
  if (focus) main.querySelector('h1')?.focus();
}

// -- start

function start() {
  // The skip link's #main would be a route: move the focus instead.
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    $('main').focus();
  });
  $('menu-toggle').addEventListener('click', () => {
    const open = !$('nav').classList.contains('open');
    $('nav').classList.toggle('open', open);
    $('menu-toggle').setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('hashchange', () => route(true));
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n instanceof HTMLElement) applyEditable(n);
  }).observe($('main'), { childList: true, subtree: true });
  setInterval(tickCountdowns, 1000);
  pollHealth();
  setInterval(pollHealth, 3000);
  if (!session.token()) {
    showLogin();
    return;
  }
  const status = h('div');
  fill($('main'), h('p', { class: 'loading' }, 'Signing in…'), status);
  loadMe(status).then((ok) => (ok ? route() : showLogin(status.textContent)));
}

start();
