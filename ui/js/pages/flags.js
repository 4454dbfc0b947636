// Flags of an environment: search by key prefix, filter by state, order,
// page; switch a flag on or off in place; live through /v1/watch.

import { navigate } from '../app.js';
import { ApiError, get } from '../api.js';
import { code, fill, h, link, notice, table, when, field } from '../dom.js';
import { environmentNames, setEnabled } from '../flagdoc.js';
import { Watch } from '../live.js';

const PAGE = 50;

export default async function flagsPage(ctx) {
  const { main, params, can } = ctx;
  const env = params.get('env') || 'default';
  const q = {
    prefix: params.get('prefix') ?? '', enabled: params.get('enabled') ?? '',
    ordering: params.get('ordering') ?? 'key', offset: Number(params.get('offset') ?? 0) || 0,
  };
  const go = (changes) => {
    navigate(link('flags', { env, ...q, offset: 0, ...changes }));
  };

  const envSelect = h('select', { onchange: () => { navigate(link('flags', { env: envSelect.value })); } });
  for (const name of await environmentNames()) envSelect.append(h('option', { value: name }, name));
  envSelect.value = env;
  const search = h('input', { type: 'search', value: q.prefix, spellcheck: 'false' });
  const state = h('select', null,
    h('option', { value: '' }, 'Any'), h('option', { value: 'true' }, 'Enabled'),
    h('option', { value: 'false' }, 'Disabled'));
  state.value = q.enabled;
  const order = h('select', null,
    h('option', { value: 'key' }, 'Key'), h('option', { value: '-updated_at' }, 'Recently changed'),
    h('option', { value: 'created_at' }, 'Oldest first'));
  order.value = q.ordering;
  const filters = h('form', { class: 'toolbar', role: 'search' },
    field('Environment', envSelect),
    field('Key starts with', search),
    field('State', state),
    field('Order', order),
    h('button', { type: 'submit', class: 'btn' }, 'Search'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    go({ prefix: search.value.trim(), enabled: state.value, ordering: order.value });
  });
  for (const el of [state, order]) el.addEventListener('change', () => filters.requestSubmit());

  const status = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  fill(main,
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Flags'),
      can('flags:write') ? h('a', { class: 'btn primary', href: link('flag', { env, new: '1' }) }, 'New flag') : null),
    filters, status, list);

  const load = async () => {
    const r = await get('/v1/flags', {
      query: { env, prefix: q.prefix, enabled: q.enabled, ordering: q.ordering, limit: PAGE, offset: q.offset },
    });
    render(r.body);
    return r.revision;
  };

  const render = ({ items, total, offset }) => {
    const columns = [
      { label: 'Key', cell: (f) => h('a', { class: 'flag-key', href: link('flag', { key: f.key, env }) }, f.key) },
      { label: 'Description', cell: (f) => f.description ?? '' },
      { label: 'Enabled', cell: (f) => enabledCell(f) },
      { label: 'Value', cell: (f) => (f.variants ? `${f.variants.length} variants` : code(f.value)) },
      { label: 'Rules', cell: (f) => String(f.rules?.length ?? 0) },
      { label: 'Updated', cell: (f) => when(f.updated_at) },
    ];
    const pager = h('div', { class: 'pager' },
      h('span', null, total === 0 ? '' : `${offset + 1}–${offset + items.length} of ${total}`),
      offset > 0 ? h('a', { class: 'btn', href: link('flags', { env, ...q, offset: Math.max(0, offset - PAGE) }) }, 'Previous') : null,
      offset + items.length < total ? h('a', { class: 'btn', href: link('flags', { env, ...q, offset: offset + PAGE }) }, 'Next') : null);
    fill(list, table(`Flags of ${env}`, columns, items,
      q.prefix || q.enabled ? 'No flag matches.' : `No flags in ${env} yet.`), pager);
  };

  const enabledCell = (f) => {
    if (!can('flags:write')) {
      return h('span', { class: `badge ${f.enabled ? 'on' : 'off'}` }, f.enabled ? 'on' : 'off');
    }
    const box = h('input', {
      type: 'checkbox', role: 'switch', checked: f.enabled, 'data-edit': true,
      'aria-label': `Enabled: ${f.key}`,
    });
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        await setEnabled(f, env, box.checked);
        fill(status, notice('ok', `${f.key} is now ${box.checked ? 'enabled' : 'disabled'}.`));
      } catch (e) {
        box.checked = !box.checked;
        const why = e instanceof ApiError && e.status === 412 ?
          `${f.key} changed meanwhile; the list is read again.` : e.message;
        fill(status, notice('error', why));
      }
      box.disabled = false;
      await load().catch(() => {});
    });
    return h('span', { class: 'switch' }, box, h('span', { 'aria-hidden': 'true' }, f.enabled ? 'on' : 'off'));
  };

  let revision;
  try {
    revision = await load();
  } catch (e) {
    fill(list, notice('error', e.message));
    return;
  }
  const watch = new Watch(`flags/${env}/`, revision, () => load(), () => load());
  ctx.onLeave(() => watch.stop());
}
