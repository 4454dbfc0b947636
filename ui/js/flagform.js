// The flag form: description, what the flag serves (a value or weighted
// variants), its default, its criteria and its rules (segments, criteria,
// a value or variants each), read back into a flag document (API.md §5).
// The flag page offers JSON beside it for what the form cannot show.

import { button, fill, field, h, parseJson, uid } from './dom.js';
import { criteriaEditor, criteriaRows, jsonField } from './forms.js';

const TOP = new Set(['description', 'enabled', 'criteria', 'value', 'default', 'variants', 'rules']);
const RULE = new Set(['segments', 'criteria', 'value', 'variants']);

// Can the form show this document whole? (else: JSON only)
export function formCanShow(doc) {
  if (Object.keys(doc).some((k) => !TOP.has(k))) return false;
  if (doc.criteria !== undefined && doc.criteria !== null && criteriaRows(doc.criteria) === null) return false;
  if (doc.description !== undefined && typeof doc.description !== 'string') return false;
  if (doc.variants !== undefined && !variantsShowable(doc.variants)) return false;
  if (doc.rules === undefined) return true;
  if (!Array.isArray(doc.rules)) return false;
  return doc.rules.every((r) => r && typeof r === 'object' && !Array.isArray(r) &&
    Object.keys(r).every((k) => RULE.has(k)) &&
    (r.criteria === undefined || criteriaRows(r.criteria) !== null) &&
    (r.segments === undefined || (Array.isArray(r.segments) && r.segments.every((s) => typeof s === 'string'))) &&
    (r.variants === undefined || variantsShowable(r.variants)));
}

function variantsShowable(variants) {
  return Array.isArray(variants) && variants.every((v) => v && typeof v === 'object' &&
    Object.keys(v).every((k) => ['name', 'value', 'weight'].includes(k)) &&
    typeof v.name === 'string' && typeof v.weight === 'number');
}

// Weighted variants: rows of name, value (JSON), weight.
function variantsEditor(legend, variants, onInput) {
  const rows = h('div');
  const box = h('fieldset', null, h('legend', null, legend), rows);
  const add = (v = { name: '', value: '', weight: 50 }) => {
    const name = h('input', { type: 'text', class: 'mono', value: v.name, 'data-role': 'name' });
    const value = jsonField('Value', v.value === '' ? undefined : v.value, { small: true, onInput });
    value.input.dataset.role = 'value';
    const weight = h('input', { type: 'number', min: '0', step: 'any', value: String(v.weight), 'data-role': 'weight' });
    const line = h('div', { class: 'variant' }, field('Name', name), value.el, field('Weight', weight),
      button('Remove', () => { line.remove(); onInput(); }, { kind: 'small', 'aria-label': 'Remove this variant' }));
    line.readValue = value.read;
    for (const el of [name, weight]) el.addEventListener('input', onInput);
    rows.append(line);
  };
  box.append(button('Add variant', () => { add(); onInput(); }, { kind: 'small' }));
  for (const v of variants ?? []) add(v);
  if (!variants || variants.length === 0) {
    add({ name: 'on', value: true, weight: 50 });
    add({ name: 'off', value: false, weight: 50 });
  }
  const read = () => {
    const out = [];
    for (const line of rows.children) {
      const name = line.querySelector('[data-role=name]').value.trim();
      const value = line.readValue();
      const weight = Number(line.querySelector('[data-role=weight]').value);
      if (!name) return { ok: false, error: `${legend}: a variant has no name` };
      if (!value.ok) return { ok: false, error: `${legend} ${name}: ${value.error}` };
      if (!Number.isFinite(weight) || weight < 0) return { ok: false, error: `${legend} ${name}: the weight is a number ≥ 0` };
      out.push({ name, value: value.value, weight });
    }
    if (out.length === 0) return { ok: false, error: `${legend}: at least one variant` };
    return { ok: true, value: out };
  };
  return { el: box, read };
}

// "Serves": a value or variants, chosen with two radio buttons.
function servesEditor(legend, doc, onInput) {
  const name = uid('serves');
  const valueField = jsonField('Value', doc.value, { optional: doc.variants === undefined && doc.value === undefined, onInput });
  const variants = variantsEditor('Variants', doc.variants, onInput);
  const useVariants = doc.variants !== undefined;
  const rValue = h('input', { type: 'radio', name, value: 'value', checked: !useVariants });
  const rVariants = h('input', { type: 'radio', name, value: 'variants', checked: useVariants });
  const body = h('div');
  const show = () => {
    fill(body, rVariants.checked ? variants.el : valueField.el);
    onInput();
  };
  rValue.addEventListener('change', show);
  rVariants.addEventListener('change', show);
  const el = h('fieldset', null, h('legend', null, legend),
    h('div', { class: 'row' },
      h('label', { class: 'check' }, rValue, 'A value'),
      h('label', { class: 'check' }, rVariants, 'Variants, split by targetingKey')),
    body);
  fill(body, useVariants ? variants.el : valueField.el);
  const read = () => {
    if (rVariants.checked) {
      const v = variants.read();
      return v.ok ? { ok: true, part: { variants: v.value } } : v;
    }
    const v = valueField.read();
    if (!v.ok) return v;
    return { ok: true, part: v.empty ? {} : { value: v.value } };
  };
  return { el, read };
}

function ruleEditor(rule, segmentNames, onInput, controls) {
  const picks = h('div', { class: 'segments-pick' });
  const chosen = new Set(rule.segments ?? []);
  const names = [...new Set([...segmentNames, ...chosen])].sort();
  for (const s of names) {
    picks.append(h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: s, checked: chosen.has(s), onchange: onInput }),
      segmentNames.includes(s) ? s : `${s} (missing)`));
  }
  if (names.length === 0) picks.append(h('p', { class: 'hint' }, 'No segments yet (see Segments).'));
  const criteria = criteriaEditor('Conditions', rule.criteria, { onInput, emptyText: 'No conditions.' });
  const serves = servesEditor('Serves', rule, onInput);
  const legend = h('legend', null, 'Rule');
  const el = h('fieldset', { class: 'card rule' }, legend,
    h('fieldset', null, h('legend', null, 'Segments (each must hold)'), picks),
    criteria.el, serves.el,
    h('div', { class: 'row' },
      button('Move up', () => controls.move(el, -1), { kind: 'small' }),
      button('Move down', () => controls.move(el, 1), { kind: 'small' }),
      button('Remove rule', () => controls.remove(el), { kind: 'small danger' })));
  el.setNumber = (n) => { legend.textContent = `Rule ${n}`; };
  el.read = () => {
    const segs = [...picks.querySelectorAll('input:checked')].map((i) => i.value);
    const c = criteria.read();
    if (!c.ok) return c;
    const s = serves.read();
    if (!s.ok) return s;
    const out = {};
    if (segs.length) out.segments = segs;
    if (Object.keys(c.value).length || !segs.length) out.criteria = c.value;
    return { ok: true, value: { ...out, ...s.part } };
  };
  return el;
}

// The whole form for doc; onInput after any change. read() -> {ok, value}.
export function flagForm(doc, segmentNames, onInput) {
  const description = h('textarea', { rows: 2 });
  description.value = doc.description ?? '';
  description.addEventListener('input', onInput);
  const serves = servesEditor('Serves when the criteria hold', doc, onInput);
  const dflt = jsonField('Default', doc.default, {
    optional: true, onInput,
    hint: 'Served when the flag is disabled or nothing matches; empty: none (the caller\'s own default).',
  });
  const criteria = criteriaEditor('Criteria', doc.criteria, { onInput });
  const rules = h('div');
  const renumber = () => [...rules.children].forEach((r, i) => r.setNumber(i + 1));
  const controls = {
    move: (el, by) => {
      const sibling = by < 0 ? el.previousElementSibling : el.nextElementSibling;
      if (!sibling) return;
      if (by < 0) sibling.before(el); else sibling.after(el);
      renumber();
      onInput();
    },
    remove: (el) => { el.remove(); renumber(); onInput(); },
  };
  const addRule = (rule) => {
    rules.append(ruleEditor(rule, segmentNames, onInput, controls));
    renumber();
  };
  for (const r of doc.rules ?? []) addRule(r);
  const el = h('div', { class: 'flag-form' },
    field('Description', description),
    criteria.el, serves.el, dflt.el,
    h('h3', null, 'Rules'),
    h('p', { class: 'hint' }, 'The first rule whose segments and conditions all hold decides; then the criteria above.'),
    rules,
    button('Add rule', () => { addRule({ criteria: {}, value: true }); onInput(); }, { kind: 'small' }));
  const read = () => {
    const out = { description: description.value };
    const c = criteria.read();
    if (!c.ok) return c;
    if (Object.keys(c.value).length) out.criteria = c.value;
    const s = serves.read();
    if (!s.ok) return s;
    Object.assign(out, s.part);
    const d = dflt.read();
    if (!d.ok) return d;
    if (!d.empty) out.default = d.value;
    const rs = [];
    for (const r of rules.children) {
      const v = r.read();
      if (!v.ok) return v;
      rs.push(v.value);
    }
    if (rs.length) out.rules = rs;
    if (out.value === undefined && out.variants === undefined) {
      return { ok: false, error: 'Serves: a value or variants is needed' };
    }
    return { ok: true, value: out };
  };
  return { el, read };
}

// JSON mode: the document as text. read() -> {ok, value}.
export function flagJson(doc, onInput) {
  const input = h('textarea', { class: 'json', rows: 18, spellcheck: 'false' });
  input.value = JSON.stringify(doc, null, 2);
  const message = h('p', { class: 'hint', 'aria-live': 'polite' });
  input.addEventListener('input', () => {
    const r = parseJson(input.value);
    input.setAttribute('aria-invalid', r.ok ? 'false' : 'true');
    message.textContent = r.ok ? '' : `Not JSON: ${r.error}`;
    onInput();
  });
  const el = h('div', null, field('Flag document (JSON)', input,
    'The whole flag as dynconf stores it (without key, revision and times).'), message);
  const read = () => {
    const r = parseJson(input.value);
    if (!r.ok) return { ok: false, error: `Not JSON: ${r.error}` };
    if (!r.value || typeof r.value !== 'object' || Array.isArray(r.value)) return { ok: false, error: 'A flag is a JSON object' };
    return r;
  };
  return { el, read, input };
}
