// Service discovery (API.md §8): every service's live instances, each
// with its expiry counting down; deregistration. Live through /v1/watch
// (registrations, heartbeats, deregistrations and lapses).

import { listAll, get, request } from '../api.js';
import { button, code, countdown, fill, h, notice, seg, table, when } from '../dom.js';
import { Watch } from '../live.js';

export default async function servicesPage(ctx) {
  const { main, can } = ctx;
  const writable = can('services:write');
  const status = h('div', { 'aria-live': 'polite' });
  const listBox = h('div');
  fill(main, h('h1', { tabindex: '-1' }, 'Services'),
    h('p', { class: 'hint' }, 'Live instances only: an instance goes when its lease lapses (no heartbeat for ttl seconds) or it deregisters.'),
    status, listBox);
  const say = (kind, text) => fill(status, notice(kind, text));

  const load = async () => {
    const { items, revision } = await listAll('/v1/services');
    const services = await Promise.all(items.map(async (s) => (await get(`/v1/services/${seg(s.name)}`)).body));
    const columns = [
      { label: 'Endpoint', cell: (i) => h('code', null, i.endpoint) },
      { label: 'Instance', cell: (i) => h('code', null, i.id) },
      { label: 'Metadata', cell: (i) => (i.metadata && Object.keys(i.metadata).length ? code(i.metadata) : '') },
      { label: 'Registered', cell: (i) => when(i.registered_at) },
      { label: 'Expires in', cell: (i) => countdown(i.expires_at) },
    ];
    if (writable) {
      columns.push({
        label: 'Actions', cell: (i) => button('Deregister', () => deregister(i), {
          kind: 'small danger', edit: true, 'aria-label': `Deregister ${i.endpoint} of ${i.service}`,
        }),
      });
    }
    fill(listBox, services.length === 0 ? h('p', { class: 'empty' }, 'No service has a live instance.') :
      services.map((s) => h('section', null,
        h('h2', null, s.name, ' ', h('span', { class: 'hint' }, `(${s.instances.length} live)`)),
        table(`Instances of ${s.name}`, columns, s.instances.map((i) => ({ ...i, service: s.name })),
          'No live instance.'))));
    return revision;
  };

  const deregister = async (i) => {
    if (!window.confirm(`Deregister ${i.endpoint} from ${i.service}?`)) return;
    try {
      await request('DELETE', `/v1/services/${seg(i.service)}/instances/${seg(i.id)}`);
      say('ok', `Deregistered ${i.endpoint}.`);
      await load();
    } catch (e) {
      say('error', e.message);
    }
  };

  let revision;
  try {
    revision = await load();
  } catch (e) {
    fill(listBox, notice('error', e.message));
    return;
  }
  const watch = new Watch('services/', revision, () => load(), () => load());
  // An instance that lapses leaves without an event until the watcher
  // sees its lease's delete: read again when a countdown reaches zero.
  const lapse = setInterval(() => {
    if (listBox.querySelector('.countdown.expired')) load().catch(() => {});
  }, 2000);
  ctx.onLeave(() => {
    watch.stop();
    clearInterval(lapse);
  });
}
