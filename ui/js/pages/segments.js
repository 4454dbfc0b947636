// Segments (API.md §5): reusable audiences that flag rules name. List,
// create, edit (criteria as a form, or JSON), delete (refused while a flag
// uses it: the page names the flags).

import { ApiError, get, ifMatch, ifNone, listAll, request } from '../api.js';
import { button, fill, field, h, link, notice, parseJson, seg, table, when } from '../dom.js';
import { criteriaEditor, criteriaRows } from '../forms.js';
import { loadAndPoll } from '../live.js';
import { flash, navigate } from '../app.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export default async function segmentsPage(ctx) {
  const { main, params, can } = ctx;
  const writable = can('flags:write');
  const selected = params.get('name');
  const creating = params.get('new') === '1';
  const status = h('div', { 'aria-live': 'polite' });
  const listBox = h('div');
  const editBox = h('div');
  fill(main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Segments'),
      writable ? h('a', { class: 'btn primary', href: link('segments', { new: '1' }) }, 'New segment') : null),
    h('p', { class: 'hint' }, 'Audiences shared by every environment; a flag rule that names a segment holds only for those its criteria hold for.'),
    status, editBox, listBox);
  const say = (kind, text) => fill(status, notice(kind, text));

  let seen = '';
  const load = async () => {
    const { items } = await listAll('/v1/segments');
    const sig = JSON.stringify(items);
    if (sig === seen) return;
    seen = sig;
    fill(listBox, table('Segments', [
      { label: 'Name', cell: (x) => h('a', { class: 'flag-key', href: link('segments', { name: x.name }) }, x.name) },
      { label: 'Description', cell: (x) => x.description ?? '' },
      { label: 'Conditions', cell: (x) => String(Object.keys(x.criteria ?? {}).length) },
      { label: 'Updated', cell: (x) => when(x.updated_at) },
    ], items, 'No segments yet.'));
  };

  const editor = (doc) => {
    const name = h('input', { type: 'text', class: 'mono', value: doc?.name ?? '', required: true, spellcheck: 'false' });
    const description = h('textarea', { rows: 2 });
    description.value = doc?.description ?? '';
    const showable = criteriaRows(doc?.criteria ?? {}) !== null;
    const criteria = showable ? criteriaEditor('Criteria', doc?.criteria ?? {}) : null;
    const json = h('textarea', { class: 'json', rows: 8, spellcheck: 'false' });
    json.value = JSON.stringify(doc?.criteria ?? {}, null, 2);
    const form = h('form', { class: 'card', 'aria-labelledby': 'seg-title' },
      h('h2', { id: 'seg-title' }, doc ? `Segment ${doc.name}` : 'New segment'),
      doc ? h('p', { class: 'hint' }, `Revision ${doc.revision}`) : field('Name', name, 'Letters, digits, . _ -; up to 128.'),
      field('Description', description),
      criteria ? criteria.el : field('Criteria (JSON)', json, 'The form cannot show these criteria.'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, doc ? 'Save' : 'Create segment'),
        doc ? button('Delete segment', () => remove(doc), { kind: 'danger', edit: true }) : null,
        h('a', { class: 'btn', href: link('segments') }, 'Close')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const c = criteria ? criteria.read() : parseJson(json.value);
      if (!c.ok) return say('error', c.error);
      const segName = doc ? doc.name : name.value.trim();
      if (!NAME.test(segName)) return say('error', 'The name: letters, digits, . _ - (up to 128).');
      try {
        const r = await request('PUT', `/v1/segments/${seg(segName)}`, {
          body: { description: description.value, criteria: c.value },
          headers: doc ? ifMatch(doc.revision) : ifNone,
        });
        flash('ok', `Saved ${segName}: revision ${r.body.revision}.`);
        navigate(link('segments', { name: segName }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 412) {
          say('error', doc ? 'The segment changed meanwhile: open it again to see the current version.' : `A segment ${segName} already exists.`);
        } else {
          say('error', err.message);
        }
      }
      return undefined;
    });
    return form;
  };

  const remove = async (doc) => {
    if (!window.confirm(`Delete the segment ${doc.name}?`)) return;
    try {
      await request('DELETE', `/v1/segments/${seg(doc.name)}`);
      flash('ok', `Deleted ${doc.name}.`);
      navigate(link('segments'));
    } catch (e) {
      if (e.code === 'segment_in_use') {
        say('error', `Flags use ${doc.name}: ${(e.problem.flags ?? []).join(', ')}. Take it out of their rules first.`);
      } else {
        say('error', e.message);
      }
    }
  };

  if (creating && writable) {
    fill(editBox, editor(null));
  } else if (selected) {
    try {
      const doc = (await get(`/v1/segments/${seg(selected)}`)).body;
      fill(editBox, writable ? editor(doc) : h('section', { class: 'card' },
        h('h2', null, `Segment ${doc.name}`), h('p', null, doc.description ?? ''),
        h('pre', null, JSON.stringify(doc.criteria, null, 2))));
    } catch (e) {
      fill(editBox, notice('error', e.message));
    }
  }
  // /v1/watch has no segments folder: read the list again now and then.
  await loadAndPoll(ctx, listBox, load);
}
