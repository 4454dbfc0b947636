// Distributed locks (API.md §9): who holds a lock, its fencing token and
// when it lapses, counting down; a forced release for admin tokens (the
// seed's DELETE /lock/{name} without the lock's token). dynconf has no
// route that lists locks, so the page follows the locks named here: the
// names (never tokens) are kept in this browser's localStorage, and each
// is read again every few seconds (a lock is read from etcd, never from
// the replica).

import { ApiError, get, request } from '../api.js';
import { button, countdown, fill, field, h, notice, seg, table, when } from '../dom.js';
import { Poller } from '../live.js';

const KEY = 'dynconf.locks';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const known = () => {
  try {
    const names = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(names) ? names.filter((n) => typeof n === 'string' && NAME.test(n)) : [];
  } catch {
    return [];
  }
};
const remember = (names) => localStorage.setItem(KEY, JSON.stringify([...new Set(names)].sort()));

export default async function locksPage(ctx) {
  const { main, can } = ctx;
  const admin = can('admin');
  const status = h('div', { 'aria-live': 'polite' });
  const listBox = h('div');
  const say = (kind, text) => fill(status, notice(kind, text));
  const name = h('input', { type: 'text', class: 'mono', required: true, spellcheck: 'false' });
  const look = h('form', { class: 'card toolbar', role: 'search' },
    field('Lock name', name, 'The page keeps following the locks you look up.'),
    h('button', { type: 'submit', class: 'btn primary' }, 'Look up'));
  look.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = name.value.trim();
    if (!NAME.test(n)) return say('error', 'A lock name: letters, digits, . _ - (up to 128).');
    remember([...known(), n]);
    name.value = '';
    fill(status);
    await load();
    return undefined;
  });
  fill(main, h('h1', { tabindex: '-1' }, 'Locks'),
    h('p', { class: 'hint' }, admin ?
      'Forcing a release frees a lock without its token; the holder loses it at once and the next holder gets a higher fencing token.' :
      'Forced release needs an admin token.'),
    look, status, listBox);

  const load = async () => {
    const rows = await Promise.all(known().map(async (n) => {
      try {
        return { name: n, lock: (await get(`/v1/locks/${seg(n)}`)).body };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return { name: n, lock: null };
        return { name: n, error: e.message };
      }
    }));
    const columns = [
      { label: 'Lock', cell: (r) => h('code', null, r.name) },
      { label: 'Holder', cell: (r) => (r.lock ? r.lock.holder : h('span', { class: 'hint' }, r.error ?? 'not held')) },
      { label: 'Fencing token', cell: (r) => (r.lock ? String(r.lock.fencing_token) : '') },
      { label: 'Acquired', cell: (r) => (r.lock ? when(r.lock.acquired_at) : '') },
      { label: 'Expires in', cell: (r) => (r.lock ? countdown(r.lock.expires_at) : '') },
      {
        label: 'Actions', cell: (r) => h('div', { class: 'row' },
          admin && r.lock ? button('Force release', () => release(r), {
            kind: 'small danger', edit: true, 'aria-label': `Force release ${r.name}`,
          }) : null,
          button('Forget', () => {
            remember(known().filter((n) => n !== r.name));
            load();
          }, { kind: 'small', 'aria-label': `Forget ${r.name}` })),
      },
    ];
    fill(listBox, table('Locks followed', columns, rows, 'Look a lock up by its name to follow it here.'));
  };

  const release = async (r) => {
    if (!window.confirm(`Force the release of ${r.name}, held by ${r.lock.holder}?`)) return;
    try {
      await request('DELETE', `/lock/${seg(r.name)}`);
      say('ok', `Released ${r.name}.`);
    } catch (e) {
      say('error', e.message);
    }
    await load();
  };

  await load();
  const poll = new Poller(load, 3000);
  ctx.onLeave(() => poll.stop());
}
