// Users (API.md §7): search (name or email), order, page through; create,
// edit (name, email, age, and the user's other fields as JSON, saved at the
// revision read), delete.

import { navigate } from '../app.js';
import { ApiError, get, ifMatch, request } from '../api.js';
import { button, fill, field, h, link, notice, parseJson, seg, table, when } from '../dom.js';
import { loadAndPoll } from '../live.js';

const PAGE = 20;
const OWN = ['id', 'name', 'email', 'age', 'revision', 'created_at', 'updated_at'];

export default async function usersPage(ctx) {
  const { main, params, can } = ctx;
  const writable = can('users:write');
  const q = {
    search: params.get('search') ?? '', ordering: params.get('ordering') ?? 'name',
    offset: Number(params.get('offset') ?? 0) || 0,
  };
  const selected = params.get('id');
  const creating = params.get('new') === '1';
  const status = h('div', { 'aria-live': 'polite' });
  const editBox = h('div');
  const listBox = h('div');
  const say = (kind, text) => fill(status, notice(kind, text));

  const search = h('input', { type: 'search', value: q.search });
  const order = h('select', null,
    ...[['name', 'Name'], ['email', 'Email'], ['age', 'Age'], ['-created_at', 'Newest'], ['-updated_at', 'Recently changed']]
      .map(([v, t]) => h('option', { value: v }, t)));
  order.value = q.ordering;
  const filters = h('form', { class: 'toolbar', role: 'search' },
    field('Search name or email', search), field('Order', order),
    h('button', { type: 'submit', class: 'btn' }, 'Search'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(link('users', { search: search.value.trim(), ordering: order.value }));
  });
  order.addEventListener('change', () => filters.requestSubmit());
  fill(main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Users'),
      writable ? h('a', { class: 'btn primary', href: link('users', { ...q, new: '1' }) }, 'New user') : null),
    filters, status, editBox, listBox);

  let seen = '';
  const load = async () => {
    const r = await get('/v1/users', {
      query: { search: q.search, ordering: q.ordering, limit: PAGE, offset: q.offset },
    });
    const sig = JSON.stringify(r.body);
    if (sig === seen) return;
    seen = sig;
    const { items, total, offset } = r.body;
    fill(listBox,
      table('Users', [
        { label: 'Name', cell: (u) => h('a', { href: link('users', { ...q, id: u.id }) }, u.name) },
        { label: 'Email', cell: (u) => u.email ?? '' },
        { label: 'Age', cell: (u) => (u.age ?? '') === '' ? '' : String(u.age) },
        { label: 'Updated', cell: (u) => when(u.updated_at) },
      ], items, q.search ? 'Nobody matches.' : 'No users yet.'),
      h('div', { class: 'pager' },
        h('span', null, total ? `${offset + 1}–${offset + items.length} of ${total}` : ''),
        offset > 0 ? h('a', { class: 'btn', href: link('users', { ...q, offset: Math.max(0, offset - PAGE) }) }, 'Previous') : null,
        offset + items.length < total ? h('a', { class: 'btn', href: link('users', { ...q, offset: offset + PAGE }) }, 'Next') : null));
  };

  const editor = (user) => {
    const name = h('input', { type: 'text', required: true, value: user?.name ?? '' });
    const email = h('input', { type: 'email', value: user?.email ?? '' });
    const age = h('input', { type: 'number', min: '0', max: '150', step: '1', value: user?.age ?? '' });
    const others = Object.fromEntries(Object.entries(user ?? {}).filter(([k]) => !OWN.includes(k)));
    const extra = h('textarea', { class: 'json', rows: 4, spellcheck: 'false' });
    extra.value = JSON.stringify(others, null, 2);
    const form = h('form', { class: 'card', 'aria-labelledby': 'user-title' },
      h('h2', { id: 'user-title' }, user ? `User ${user.name}` : 'New user'),
      user ? h('p', { class: 'hint' }, `id ${user.id} · revision ${user.revision}`) : null,
      h('div', { class: 'grid2' }, field('Name', name), field('Email', email), field('Age', age)),
      field('Other fields (JSON object)', extra, 'Kept as given.'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, user ? 'Save' : 'Create user'),
        user ? button('Delete user', () => remove(user), { kind: 'danger', edit: true }) : null,
        h('a', { class: 'btn', href: link('users', q) }, 'Close')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const more = parseJson(extra.value || '{}');
      if (!more.ok || typeof more.value !== 'object' || Array.isArray(more.value) || more.value === null) {
        return say('error', 'Other fields: a JSON object, please.');
      }
      const body = { ...more.value, name: name.value, email: email.value.trim() || null };
      body.age = age.value === '' ? null : Number(age.value);
      try {
        if (user) {
          const r = await request('PUT', `/v1/users/${seg(user.id)}`, { body, headers: ifMatch(user.revision) });
          say('ok', `Saved ${r.body.name}: revision ${r.body.revision}.`);
          fill(editBox, editor(r.body));
        } else {
          const r = await request('POST', '/v1/users', { body });
          navigate(link('users', { ...q, id: r.body.id }));
        }
        seen = '';
        await load();
      } catch (err) {
        say('error', err instanceof ApiError && err.status === 412 ?
          'This user changed meanwhile: open it again to see the current version.' : err.message);
      }
      return undefined;
    });
    return form;
  };

  const remove = async (user) => {
    if (!window.confirm(`Delete the user ${user.name}?`)) return;
    try {
      await request('DELETE', `/v1/users/${seg(user.id)}`, { headers: ifMatch(user.revision) });
      say('ok', `Deleted ${user.name}.`);
      navigate(link('users', q));
    } catch (e) {
      say('error', e.message);
    }
  };

  if (creating && writable) fill(editBox, editor(null));
  else if (selected) {
    try {
      const user = (await get(`/v1/users/${seg(selected)}`)).body;
      fill(editBox, writable ? editor(user) : h('section', { class: 'card' },
        h('h2', null, user.name), h('pre', null, JSON.stringify(user, null, 2))));
    } catch (e) {
      fill(editBox, notice('error', e.message));
    }
  }
  await loadAndPoll(ctx, listBox, load);
}
