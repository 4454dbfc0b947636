// Environments (API.md §4): list, create (its SDK key is shown once),
// rotate the SDK key (the new one shown once, the old one stops working),
// delete (with its flags, when asked).

import { listAll, request } from '../api.js';
import { button, fill, field, h, link, notice, seg, table, when } from '../dom.js';
import { loadAndPoll } from '../live.js';

export default async function environmentsPage(ctx) {
  const { main, can } = ctx;
  const writable = can('environments:write');
  const status = h('div', { 'aria-live': 'polite' });
  const secretBox = h('div');
  const listBox = h('div');
  const say = (kind, text) => fill(status, notice(kind, text));

  const showKey = (name, key, what) => {
    const copy = button('Copy', async () => {
      try {
        await navigator.clipboard.writeText(key);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy failed: select the key';
      }
    }, { kind: 'small' });
    fill(secretBox, h('section', { class: 'notice ok', role: 'status' },
      h('p', null, h('strong', null, `${what} SDK key of ${name}`), ' — shown this once; keep it now:'),
      h('p', { class: 'row' }, h('code', { class: 'secret', 'data-secret': 'sdk_key' }, key), copy)));
  };

  let seen = '';
  const load = async () => {
    const { items } = await listAll('/v1/environments');
    const sig = JSON.stringify(items);
    if (sig === seen) return;
    seen = sig;
    const columns = [
      { label: 'Name', cell: (e) => h('a', { class: 'flag-key', href: link('flags', { env: e.name }) }, e.name) },
      { label: 'Created', cell: (e) => when(e.created_at) },
    ];
    if (writable) {
      columns.push({
        label: 'Actions', cell: (e) => h('div', { class: 'row' },
          button('Rotate SDK key', () => rotate(e.name), { kind: 'small', edit: true, 'aria-label': `Rotate SDK key of ${e.name}` }),
          e.name === 'default' ? null : button('Delete', () => remove(e.name), { kind: 'small danger', edit: true, 'aria-label': `Delete ${e.name}` })),
      });
    }
    fill(listBox, table('Environments', columns, items));
  };

  const rotate = async (name) => {
    if (!window.confirm(`Rotate the SDK key of ${name}? The current key stops working at once.`)) return;
    try {
      const r = await request('POST', `/v1/environments/${seg(name)}/rotate-key`);
      showKey(name, r.body.sdk_key, 'New');
      fill(status);
    } catch (e) {
      say('error', e.message);
    }
  };

  const remove = async (name) => {
    if (!window.confirm(`Delete the environment ${name}?`)) return;
    try {
      await request('DELETE', `/v1/environments/${seg(name)}`);
      say('ok', `Deleted ${name}.`);
    } catch (e) {
      if (e.code === 'environment_not_empty' &&
          window.confirm(`${name} still holds flags. Delete it with all its flags?`)) {
        try {
          await request('DELETE', `/v1/environments/${seg(name)}`, { query: { cascade: 'true' } });
          say('ok', `Deleted ${name} and its flags.`);
        } catch (e2) {
          say('error', e2.message);
        }
      } else {
        say('error', e.message);
      }
    }
    await load();
  };

  let create = null;
  if (writable) {
    const name = h('input', { type: 'text', class: 'mono', required: true, spellcheck: 'false', pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}' });
    create = h('form', { class: 'card toolbar', 'aria-label': 'Create an environment' },
      field('New environment', name, 'Letters, digits, . _ -'),
      h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, 'Create'));
    create.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const r = await request('POST', '/v1/environments', { body: { name: name.value.trim() } });
        showKey(r.body.name, r.body.sdk_key, 'The');
        name.value = '';
        fill(status);
        await load();
      } catch (err) {
        say('error', err.message);
      }
    });
  }

  fill(main, h('h1', { tabindex: '-1' }, 'Environments'),
    h('p', { class: 'hint' }, 'Each environment has its own flags and SDK key; segments are shared.'),
    status, secretBox, create, listBox);
  await loadAndPoll(ctx, listBox, load);
}
