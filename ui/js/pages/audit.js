// The audit trail (API.md §14): who changed what, newest first, filtered by
// resource, key, actor and time, a page at a time; read again every few
// seconds while the first page shows.

import { ApiError, get } from '../api.js';
import { navigate } from '../app.js';
import { fill, field, h, link, notice, table, when } from '../dom.js';
import { Poller } from '../live.js';

const PAGE = 50;
const RESOURCES = ['flags', 'segments', 'config', 'environments', 'users', 'services', 'locks', 'tokens'];

// A datetime-local value (the browser's time zone) as RFC 3339 UTC.
function rfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function localInput(text) {
  if (!text) return '';
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export default async function auditPage(ctx) {
  const { main, params } = ctx;
  const q = {
    resource: params.get('resource') ?? '', key: params.get('key') ?? '',
    actor: params.get('actor') ?? '', since: params.get('since') ?? '',
    offset: Number(params.get('offset') ?? 0) || 0,
  };
  const resource = h('input', { type: 'text', list: 'audit-resources', value: q.resource, spellcheck: 'false' });
  const key = h('input', { type: 'text', class: 'mono', value: q.key, spellcheck: 'false' });
  const actor = h('input', { type: 'text', value: q.actor, spellcheck: 'false' });
  const since = h('input', { type: 'datetime-local', value: localInput(q.since) });
  const filters = h('form', { class: 'toolbar', role: 'search' },
    field('Resource', resource), h('datalist', { id: 'audit-resources' }, RESOURCES.map((r) => h('option', { value: r }))),
    field('Key', key), field('Actor', actor), field('Since', since),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(link('audit', {
      resource: resource.value.trim(), key: key.value.trim(), actor: actor.value.trim(), since: rfc3339(since.value),
    }));
  });
  const listBox = h('div');
  fill(main, h('h1', { tabindex: '-1' }, 'Audit'),
    h('p', { class: 'hint' }, 'Every write through the API, with who made it; changes made straight in etcd show as etcd.'),
    filters, listBox);

  let seen = '';
  const load = async () => {
    let r;
    try {
      r = await get('/v1/audit', { query: { ...q, limit: PAGE } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        fill(listBox, notice('warn', 'This dynconf keeps no audit trail yet (GET /v1/audit answered 404).'));
        return false;
      }
      throw e;
    }
    const sig = JSON.stringify(r.body);
    if (sig === seen) return true;
    seen = sig;
    const { items, total, offset } = r.body;
    fill(listBox,
      table('Audit trail', [
        { label: 'Time', cell: (a) => when(a.time) },
        { label: 'Actor', cell: (a) => h('span', { 'data-field': 'actor' }, a.actor ?? '') },
        { label: 'Action', cell: (a) => a.action ?? '' },
        { label: 'Resource', cell: (a) => a.resource ?? '' },
        { label: 'Key', cell: (a) => h('code', { 'data-field': 'key' }, a.key ?? '') },
        { label: 'Revision', cell: (a) => `${a.old_revision ?? '—'} → ${a.new_revision ?? '—'}` },
        { label: 'Request', cell: (a) => h('code', null, a.request_id ?? '') },
      ], items, 'Nothing recorded matches.'),
      h('div', { class: 'pager' },
        h('span', null, total ? `${offset + 1}–${offset + items.length} of ${total}` : ''),
        offset > 0 ? h('a', { class: 'btn', href: link('audit', { ...q, offset: Math.max(0, offset - PAGE) }) }, 'Newer') : null,
        offset + items.length < total ? h('a', { class: 'btn', href: link('audit', { ...q, offset: offset + PAGE }) }, 'Older') : null));
    return true;
  };
  try {
    if (!(await load())) return;
  } catch (e) {
    fill(listBox, notice('error', e.message));
    return;
  }
  if (q.offset === 0) {
    const poll = new Poller(load, 5000);
    ctx.onLeave(() => poll.stop());
  }
}
