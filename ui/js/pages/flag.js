// One flag: switch it on or off, edit it (the form, or JSON), evaluate it
// for a test context, delete it. A save is conditional on the revision
// the page read (If-Match): when someone changed the flag meanwhile, the
// page shows both versions and lets the person choose. Live through
// /v1/watch: a change made elsewhere shows at once (and, while the person
// has unsaved edits, as a warning instead).

import { ApiError, ifMatch, ifNone, listAll, request } from '../api.js';
import { button, code, fill, field, h, link, notice, when } from '../dom.js';
import { flagBody, flagPath, readFlag, setEnabled, updateFlag } from '../flagdoc.js';
import { flagForm, flagJson, formCanShow } from '../flagform.js';
import { Watch } from '../live.js';
import { flash, navigate } from '../app.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export default async function flagPage(ctx) {
  const { main, params, can } = ctx;
  const env = params.get('env') || 'default';
  const creating = params.get('new') === '1';
  const key = params.get('key') ?? '';
  const writable = can('flags:write');
  const s = {
    doc: null, // the stored flag, as last read or saved
    dirty: false,
    mode: 'form',
    editor: null,
    evaluated: false,
  };

  const status = h('div', { 'aria-live': 'polite' });
  const conflictBox = h('div');
  const stateBox = h('div');
  const defBox = h('div');
  const evalBox = h('div');
  const heading = h('h1', { tabindex: '-1' }, creating ? 'New flag' : 'Flag ', creating ? null : h('span', { class: 'flag-key' }, key));
  const meta = h('p', { class: 'hint' });
  fill(main,
    h('p', null, h('a', { href: link('flags', { env }) }, `← Flags of ${env}`)),
    heading, meta, status, conflictBox,
    h('div', { class: 'flag-layout' }, h('div', null, stateBox, defBox), h('div', { class: 'side' }, evalBox)));
  ctx.setTitle(creating ? 'New flag' : `Flag ${key}`);

  const say = (kind, text) => fill(status, notice(kind, text));

  let segmentNames = [];
  if (writable) {
    try {
      segmentNames = (await listAll('/v1/segments')).items.map((x) => x.name);
    } catch {
      segmentNames = [];
    }
  }

  // -- the stored flag

  const showMeta = () => {
    fill(meta, `Environment ${env}`,
      s.doc ? [' · revision ', String(s.doc.revision), ' · updated ', when(s.doc.updated_at)] : null);
  };

  const showState = () => {
    if (!s.doc) return fill(stateBox);
    const badge = h('span', { class: `badge ${s.doc.enabled ? 'on' : 'off'}` }, s.doc.enabled ? 'enabled' : 'disabled');
    if (!writable) return fill(stateBox, h('p', null, 'State: ', badge));
    const box = h('input', {
      type: 'checkbox', role: 'switch', id: 'flag-enabled', checked: s.doc.enabled, 'data-edit': true,
    });
    box.addEventListener('change', async () => {
      try {
        s.doc = await setEnabled(s.doc, env, box.checked);
        say('ok', `${key} is now ${s.doc.enabled ? 'enabled' : 'disabled'} (revision ${s.doc.revision}).`);
        showState();
        showMeta();
        reEvaluate();
      } catch (e) {
        box.checked = !box.checked;
        if (e instanceof ApiError && e.status === 412) {
          say('warn', 'The flag changed meanwhile; it is read again. Switch again if you still want to.');
          await reload();
        } else {
          say('error', e.message);
        }
      }
    });
    return fill(stateBox, h('div', { class: 'card' },
      h('label', { class: 'check', for: 'flag-enabled' }, box, h('strong', null, 'Enabled')), ' ', badge,
      h('p', { class: 'hint' }, 'Switching saves at once. Disabled, the flag serves its default to everyone.')));
  };

  // -- the definition: form or JSON

  const markDirty = () => {
    s.dirty = true;
  };

  const currentBody = () => (s.doc ? flagBody(s.doc) : { description: '', enabled: true, value: true, default: false });

  const showDefinition = (body = currentBody(), mode = s.mode) => {
    if (!writable) {
      fill(defBox, h('h2', null, 'Definition'),
        h('pre', { class: 'card' }, h('code', { class: 'json' }, JSON.stringify(body, null, 2))));
      return;
    }
    const formOk = formCanShow(body);
    s.mode = formOk ? mode : 'json';
    s.editor = s.mode === 'form' ? flagForm(body, segmentNames, markDirty) : flagJson(body, markDirty);
    const formBtn = button('Form', () => switchMode('form'), { 'aria-pressed': String(s.mode === 'form') });
    const jsonBtn = button('JSON', () => switchMode('json'), { 'aria-pressed': String(s.mode === 'json') });
    const keyInput = creating ? h('input', { id: 'flag-key', type: 'text', class: 'mono', required: true, spellcheck: 'false', value: key }) : null;
    const form = h('form', { class: 'card', 'aria-label': 'Flag definition' },
      h('div', { class: 'page-head' }, h('h2', null, 'Definition'),
        h('div', { class: 'row', role: 'group', 'aria-label': 'Edit as' }, formBtn, jsonBtn)),
      formOk ? null : notice('info', 'This flag uses what the form cannot show: edit it as JSON.'),
      keyInput ? field('Key', keyInput, 'Letters, digits, . _ -; up to 128.') : null,
      creating ? h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'new-enabled', checked: true }), 'Enabled') : null,
      s.editor.el,
      h('div', { class: 'row actions' },
        h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, creating ? 'Create flag' : 'Save'),
        creating ? null : button('Delete flag', remove, { kind: 'danger', edit: true })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      save(keyInput ? keyInput.value.trim() : key);
    });
    fill(defBox, form);
  };

  const readEditor = () => {
    const r = s.editor.read();
    if (!r.ok) return r;
    const body = { ...r.value };
    if (s.mode === 'form') body.enabled = s.doc ? s.doc.enabled : document.getElementById('new-enabled').checked;
    return { ok: true, value: body };
  };

  const switchMode = (mode) => {
    if (mode === s.mode) return;
    const r = readEditor();
    if (!r.ok) return say('error', `Fix this first: ${r.error}`);
    if (mode === 'form' && !formCanShow(r.value)) return say('warn', 'The form cannot show this document; keep editing it as JSON.');
    fill(status);
    showDefinition(r.value, mode);
  };

  // -- saving, and conflicts

  const save = async (flagKey, over = null) => {
    const r = readEditor();
    if (!r.ok) return say('error', r.error);
    if (ctx.isStale()) return say('warn', 'etcd is unreachable: nothing can be saved now.');
    const body = r.value;
    try {
      if (creating) {
        if (!NAME.test(flagKey)) return say('error', 'The key: letters, digits, . _ - (up to 128), starting with a letter or digit.');
        const { path, query } = flagPath(flagKey, env);
        await request('PUT', path, { query, body, headers: ifNone });
        flash('ok', `Created ${flagKey} in ${env}.`);
        navigate(link('flag', { key: flagKey, env }));
        return undefined;
      }
      s.doc = await updateFlag(key, env, body, over ?? s.doc.revision);
      s.dirty = false;
      fill(conflictBox);
      say('ok', `Saved: revision ${s.doc.revision}.`);
      showAll();
      reEvaluate();
    } catch (e) {
      if (e instanceof ApiError && !creating && (e.status === 412 || e.code === 'revision_mismatch')) {
        const theirs = await readFlag(key, env, true);
        showConflict(body, theirs);
      } else if (e instanceof ApiError && e.code === 'already_exists') {
        say('error', `A flag ${flagKey} already exists in ${env}.`);
      } else {
        say('error', e.message);
      }
    }
    return undefined;
  };

  const showConflict = (mine, theirs) => {
    const theirsBody = flagBody(theirs);
    const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirsBody)])];
    const differ = keys.filter((k) => JSON.stringify(mine[k]) !== JSON.stringify(theirsBody[k]));
    fill(status);
    fill(conflictBox, h('section', { class: 'card conflict', 'aria-labelledby': 'conflict-title' },
      h('h2', { id: 'conflict-title', tabindex: '-1' }, 'Someone else changed this flag'),
      h('p', null, `You edited revision ${s.doc.revision}; it is now at revision ${theirs.revision}. `,
        'Nothing of yours was saved. ',
        differ.length ? ['The versions differ in: ', h('strong', null, differ.join(', ')), '.'] : 'The versions are the same.'),
      h('div', { class: 'versions' },
        h('div', null, h('h3', null, 'Your version (not saved)'),
          h('pre', { 'data-version': 'mine' }, JSON.stringify(mine, null, 2))),
        h('div', null, h('h3', null, `Current version (revision ${theirs.revision})`),
          h('pre', { 'data-version': 'theirs' }, JSON.stringify(theirsBody, null, 2)))),
      h('div', { class: 'row' },
        button('Overwrite with mine', () => {
          s.doc = theirs;
          save(key, theirs.revision);
        }, { kind: 'primary', edit: true }),
        button('Take theirs (discard mine)', () => {
          s.doc = theirs;
          s.dirty = false;
          fill(conflictBox);
          showAll();
          say('info', `Showing revision ${theirs.revision}; your edits were dropped.`);
        }),
        button('Merge by hand', () => {
          s.doc = theirs;
          showState();
          showMeta();
          say('info', `Your edits stay in the form; saving now replaces revision ${theirs.revision}. Their version stays shown above.`);
        }))));
    conflictBox.querySelector('h2').focus();
  };

  const remove = async () => {
    if (!window.confirm(`Delete the flag ${key} from ${env}?`)) return;
    try {
      const { path, query } = flagPath(key, env);
      await request('DELETE', path, { query, headers: ifMatch(s.doc.revision) });
      flash('ok', `Deleted ${key} from ${env}.`);
      navigate(link('flags', { env }));
    } catch (e) {
      say('error', e instanceof ApiError && e.status === 412 ? 'The flag changed meanwhile: look again before deleting it.' : e.message);
    }
  };

  // -- evaluation

  const context = h('textarea', { class: 'json', rows: 4, spellcheck: 'false', id: 'eval-context' });
  context.value = JSON.stringify({ targetingKey: 'user-1' }, null, 2);
  const result = h('div', { 'aria-live': 'polite', id: 'eval-result' });
  const evaluate = async () => {
    let ctxDoc;
    try {
      ctxDoc = JSON.parse(context.value || '{}');
    } catch (e) {
      return fill(result, notice('error', `The context is not JSON: ${e.message}`));
    }
    try {
      const r = await request('POST', `${flagPath(key, env).path}/evaluate`, { query: { env }, body: { context: ctxDoc } });
      s.evaluated = true;
      const ev = r.body;
      return fill(result, h('dl', { class: 'result' },
        h('dt', null, 'Value'), h('dd', { 'data-field': 'value' }, 'value' in ev ? code(ev.value) : '(none: the caller\'s default)'),
        h('dt', null, 'Reason'), h('dd', { 'data-field': 'reason' }, ev.reason),
        h('dt', null, 'Variant'), h('dd', { 'data-field': 'variant' }, ev.variant ?? '—'),
        h('dt', null, 'Revision'), h('dd', null, String(ev.revision))));
    } catch (e) {
      return fill(result, notice('error', e.message));
    }
  };
  const reEvaluate = () => {
    if (s.evaluated) evaluate();
  };
  const showEvaluate = () => {
    if (!s.doc) return;
    const form = h('form', { class: 'card', 'aria-labelledby': 'eval-title' },
      h('h2', { id: 'eval-title' }, 'Evaluate'),
      field('Context (JSON)', context, 'targetingKey and the attributes the criteria read, e.g. {"targetingKey": "u1", "plan": "pro"}.'),
      h('button', { type: 'submit', class: 'btn' }, 'Evaluate'),
      result);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      evaluate();
    });
    fill(evalBox, form);
  };

  const showAll = () => {
    showMeta();
    showState();
    showDefinition();
    showEvaluate();
  };

  const reload = async () => {
    s.doc = await readFlag(key, env);
    showAll();
    reEvaluate();
  };

  if (creating) {
    if (!writable) return fill(defBox, notice('warn', 'This token may not create flags.'));
    showMeta();
    showDefinition();
    return undefined;
  }
  let revision;
  try {
    const r = await request('GET', flagPath(key, env).path, { query: { env } });
    s.doc = r.body;
    revision = r.revision;
  } catch (e) {
    fill(defBox, notice('error', e instanceof ApiError && e.status === 404 ? `There is no flag ${key} in ${env}.` : e.message));
    return undefined;
  }
  showAll();

  // Live: a change elsewhere.
  const mine = (ev) => ev.key === key || ev.key === `${env}/${key}`;
  const watch = new Watch(`flags/${env}/${key}`, revision, async (events) => {
    const last = events.filter(mine).pop();
    if (!last) return;
    if (last.type === 'delete') {
      say('warn', `This flag was deleted elsewhere (revision ${last.revision}).`);
      return;
    }
    if (last.revision <= s.doc.revision) return;
    if (s.dirty) {
      say('warn', `This flag was changed elsewhere (revision ${last.revision}) while you edit it: saving will show both versions.`);
      return;
    }
    await reload();
    say('info', `Updated to revision ${s.doc.revision} by a change made elsewhere.`);
  }, async () => {
    await reload();
    return null;
  });
  ctx.onLeave(() => watch.stop());
  return undefined;
}

