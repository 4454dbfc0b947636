// Dynamic configuration (API.md §6): the entries as a tree of their key's
// folders, one entry's value edited as JSON (checked as it is typed, saved
// at the revision read), new entries, deletes. Live through /v1/watch.

import { ApiError, get, ifMatch, ifNone, listAll, request } from '../api.js';
import { button, fill, field, h, jsonText, link, notice, when } from '../dom.js';
import { navigate, setBlocked } from '../app.js';
import { jsonField } from '../forms.js';
import { Watch } from '../live.js';

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,15}$/;
// The API path of an entry: each segment encoded, the slashes kept.
const entryPath = (key) => `/v1/config/${key.split('/').map(encodeURIComponent).join('/')}`;

function preview(value) {
  const text = jsonText(value).replace(/\s+/g, ' ');
  return text.length > 48 ? `${text.slice(0, 47)}…` : text;
}

// {folders: Map(name -> node), entries: [item]} from the flat list.
function buildTree(items) {
  const root = { folders: new Map(), entries: [] };
  for (const item of items) {
    const parts = item.key.split('/');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.folders.has(part)) node.folders.set(part, { folders: new Map(), entries: [] });
      node = node.folders.get(part);
    }
    node.entries.push({ name: parts[parts.length - 1], item });
  }
  return root;
}

export default async function configPage(ctx) {
  const { main, params, can } = ctx;
  const writable = can('config:write');
  const prefix = params.get('prefix') ?? '';
  const selected = params.get('key');
  const creating = params.get('new') === '1';
  const status = h('div', { 'aria-live': 'polite' });
  const treeBox = h('nav', { class: 'card', 'aria-label': 'Config entries' });
  const editBox = h('div');
  const say = (kind, text) => fill(status, notice(kind, text));

  const prefixInput = h('input', { type: 'search', class: 'mono', value: prefix, spellcheck: 'false' });
  const filter = h('form', { class: 'toolbar', role: 'search' },
    field('Key prefix', prefixInput, 'app/ lists app/…; empty lists everything.'),
    h('button', { type: 'submit', class: 'btn' }, 'Show'));
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(link('config', { prefix: prefixInput.value.trim() }));
  });
  fill(main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Config'),
      writable ? h('a', { class: 'btn primary', href: link('config', { prefix, new: '1' }) }, 'New entry') : null),
    filter, status, h('div', { class: 'split' }, treeBox, editBox));

  const renderTree = (items) => {
    const folder = (node, path) => h('ul', { class: path ? '' : 'tree' },
      [...node.folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, child]) =>
        h('li', null, h('details', { open: true },
          h('summary', null, `${name}/`), folder(child, `${path}${name}/`)))),
      node.entries.sort((a, b) => a.name.localeCompare(b.name)).map(({ name, item }) =>
        h('li', null,
          h('a', {
            href: link('config', { prefix, key: item.key }),
            'aria-current': item.key === selected ? 'true' : null,
            'aria-label': `${item.key}`,
          }, name),
          h('span', { class: 'preview', 'data-key': item.key }, preview(item.value)))));
    fill(treeBox, items.length ? folder(buildTree(items), '') :
      h('p', { class: 'empty' }, prefix ? `Nothing under ${prefix}.` : 'No config entries yet.'));
  };

  const load = async () => {
    const { items, revision } = await listAll('/v1/config', { prefix });
    renderTree(items);
    return revision;
  };

  // -- one entry
  let entry = null;
  let dirty = false;

  const showEntry = () => {
    if (!writable) {
      fill(editBox, h('section', { class: 'card' }, h('h2', { class: 'flag-key' }, entry.key),
        h('p', { class: 'hint' }, `Revision ${entry.revision} · updated `, when(entry.updated_at)),
        h('pre', { 'data-role': 'value' }, JSON.stringify(entry.value, null, 2))));
      return;
    }
    dirty = false;
    const saveBtn = h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, 'Save');
    const value = jsonField('Value (JSON)', entry.value, {
      onInput: () => {
        dirty = true;
        setBlocked(saveBtn, !value.read().ok);
      },
      hint: 'Any JSON: an object, an array, a string in quotes, a number, true, false or null.',
    });
    const form = h('form', { class: 'card', 'aria-labelledby': 'entry-title' },
      h('h2', { id: 'entry-title', class: 'flag-key' }, entry.key),
      h('p', { class: 'hint' }, `Revision ${entry.revision} · updated `, when(entry.updated_at)),
      value.el,
      h('div', { class: 'row' }, saveBtn,
        button('Delete entry', remove, { kind: 'danger', edit: true })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = value.read();
      if (!v.ok) return say('error', v.error);
      try {
        const r = await request('PUT', entryPath(entry.key), { body: { value: v.value }, headers: ifMatch(entry.revision) });
        entry = r.body;
        say('ok', `Saved ${entry.key}: revision ${entry.revision}.`);
        showEntry();
      } catch (err) {
        say('error', err instanceof ApiError && err.status === 412 ?
          `${entry.key} changed meanwhile (someone else saved it): open it again to see the current value; your text stays here.` :
          err.message);
      }
      return undefined;
    });
    fill(editBox, form);
  };

  const remove = async () => {
    if (!window.confirm(`Delete ${entry.key}?`)) return;
    try {
      await request('DELETE', entryPath(entry.key), { headers: ifMatch(entry.revision) });
      say('ok', `Deleted ${entry.key}.`);
      navigate(link('config', { prefix }));
    } catch (e) {
      say('error', e.message);
    }
  };

  const newEntry = () => {
    const key = h('input', { type: 'text', class: 'mono', required: true, spellcheck: 'false', value: prefix });
    const createBtn = h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, 'Create');
    const value = jsonField('Value (JSON)', undefined, {
      onInput: () => setBlocked(createBtn, !value.read().ok),
    });
    const form = h('form', { class: 'card', 'aria-labelledby': 'new-title' },
      h('h2', { id: 'new-title' }, 'New entry'),
      field('Key', key, 'Names joined by /, e.g. app/http/retries.'),
      value.el, h('div', { class: 'row' }, createBtn, h('a', { class: 'btn', href: link('config', { prefix }) }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const k = key.value.trim();
      if (!KEY.test(k)) return say('error', 'The key: names of letters, digits, . _ - joined by /.');
      const v = value.read();
      if (!v.ok) return say('error', v.error);
      try {
        await request('PUT', entryPath(k), { body: { value: v.value }, headers: ifNone });
        navigate(link('config', { prefix, key: k }));
      } catch (err) {
        say('error', err.code === 'already_exists' ? `${k} already exists.` : err.message);
      }
      return undefined;
    });
    fill(editBox, form);
  };

  const loadEntry = async () => {
    entry = (await get(entryPath(selected))).body;
    showEntry();
  };

  if (creating && writable) newEntry();
  else if (selected) {
    try {
      await loadEntry();
    } catch (e) {
      fill(editBox, notice('error', e.message));
    }
  } else {
    fill(editBox, h('p', { class: 'card empty' }, 'Choose an entry on the left.'));
  }
  let revision;
  try {
    revision = await load();
  } catch (e) {
    fill(treeBox, notice('error', e.message));
    return;
  }
  const watchPrefix = /^[A-Za-z0-9/._-]*$/.test(prefix) ? `config/${prefix}` : 'config/';
  const watch = new Watch(watchPrefix, revision, async (events) => {
    await load();
    const mine = events.filter((ev) => ev.key === selected).pop();
    if (!mine || !entry) return;
    if (mine.type === 'delete') say('warn', `${selected} was deleted elsewhere.`);
    else if (dirty) say('warn', `${selected} was changed elsewhere (revision ${mine.revision}) while you edit it: saving will be refused.`);
    else if (mine.revision > entry.revision) {
      await loadEntry();
      say('info', `${selected} was updated elsewhere: revision ${entry.revision}.`);
    }
  }, () => load());
  ctx.onLeave(() => watch.stop());
}
