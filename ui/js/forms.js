// Form pieces the flag, segment and config pages share: a JSON field that
// says at once whether its text is JSON, and the criteria editor (API.md
// §5: attribute -> matcher), one row per condition, that reads back into
// the object dynconf stores.

import { button, field, h, jsonText, parseJson, parseLoose, showLoose, uid } from './dom.js';

export const OPERATORS = [
  ['eq', 'equals'], ['ne', 'is not'], ['in', 'is one of'], ['not_in', 'is none of'],
  ['gt', '>'], ['gte', '≥'], ['lt', '<'], ['lte', '≤'],
  ['contains', 'contains'], ['not_contains', 'does not contain'],
  ['starts_with', 'starts with'], ['ends_with', 'ends with'], ['regex', 'matches regex'],
  ['exists', 'exists'], ['semver_gt', 'semver >'], ['semver_lt', 'semver <'],
];
const KNOWN = new Set(OPERATORS.map(([op]) => op));
const LISTS = new Set(['in', 'not_in']);

// A textarea that must hold JSON (or nothing, when optional). read():
// {ok, value, empty}. onInput is called after each change.
export function jsonField(label, value, { optional = false, small = false, hint, onInput } = {}) {
  const input = h('textarea', { class: `json${small ? ' small' : ''}`, spellcheck: 'false' });
  input.value = value === undefined ? '' : jsonText(value);
  // As tall as the value, within bounds.
  const lines = input.value.split('\n').length;
  input.rows = small ? Math.min(lines, 4) : Math.max(2, Math.min(lines + 1, 14));
  const message = h('p', { class: 'hint', id: uid('msg'), 'aria-live': 'polite' });
  const wrap = field(label, input, hint);
  wrap.append(message);
  input.setAttribute('aria-describedby',
    `${input.getAttribute('aria-describedby') ?? ''} ${message.id}`.trim());
  const read = () => {
    const text = input.value.trim();
    if (text === '') {
      return optional ? { ok: true, empty: true, value: undefined } :
        { ok: false, error: `${label}: some JSON is needed (e.g. true, 3, "text")` };
    }
    const parsed = parseJson(text);
    return parsed.ok ? { ok: true, value: parsed.value } :
      { ok: false, error: `${label}: not JSON (${parsed.error})` };
  };
  const check = () => {
    const r = read();
    input.setAttribute('aria-invalid', r.ok ? 'false' : 'true');
    message.textContent = r.ok ? '' : r.error;
    return r;
  };
  input.addEventListener('input', () => {
    check();
    onInput?.();
  });
  return { el: wrap, input, read: check, set: (v) => { input.value = v === undefined ? '' : jsonText(v); check(); } };
}

// Rows for a criteria object, or null when the form cannot show it (an
// operator it does not know, a list item holding a comma...).
export function criteriaRows(criteria) {
  const rows = [];
  for (const [attr, matcher] of Object.entries(criteria ?? {})) {
    if (Array.isArray(matcher)) {
      if (!listShowable(matcher)) return null;
      rows.push({ attr, op: 'in', value: matcher.map(showLoose).join(', ') });
    } else if (matcher !== null && typeof matcher === 'object') {
      const ops = Object.entries(matcher);
      if (ops.length === 0) return null;
      for (const [op, operand] of ops) {
        if (!KNOWN.has(op)) return null;
        if (LISTS.has(op)) {
          if (!Array.isArray(operand) || !listShowable(operand)) return null;
          rows.push({ attr, op, value: operand.map(showLoose).join(', ') });
        } else {
          rows.push({ attr, op, value: showLoose(operand) });
        }
      }
    } else if (matcher === null) {
      return null;
    } else {
      rows.push({ attr, op: 'eq', value: showLoose(matcher) });
    }
  }
  return rows;
}

function listShowable(items) {
  return items.every((v) => v === null || typeof v !== 'object') &&
    items.every((v) => !showLoose(v).includes(','));
}

// The criteria object for rows: {ok, value} or {ok: false, error}.
export function rowsCriteria(rows) {
  const byAttr = new Map();
  for (const row of rows) {
    const attr = row.attr.trim();
    if (attr === '' && row.value.trim() === '') continue;
    if (attr === '') return { ok: false, error: 'a condition has no attribute' };
    let operand;
    if (LISTS.has(row.op)) {
      operand = row.value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parseLoose);
    } else {
      operand = parseLoose(row.value);
    }
    const ops = byAttr.get(attr) ?? [];
    if (ops.some(([op]) => op === row.op)) {
      return { ok: false, error: `${attr}: "${row.op}" is given twice` };
    }
    ops.push([row.op, operand]);
    byAttr.set(attr, ops);
  }
  const out = {};
  for (const [attr, ops] of byAttr) {
    if (ops.length === 1 && ops[0][0] === 'eq' && (ops[0][1] === null || typeof ops[0][1] !== 'object')) {
      out[attr] = ops[0][1];
    } else if (ops.length === 1 && ops[0][0] === 'in') {
      out[attr] = ops[0][1];
    } else {
      out[attr] = Object.fromEntries(ops);
    }
  }
  return { ok: true, value: out };
}

// The criteria editor: a fieldset of condition rows. read() -> {ok, value}.
export function criteriaEditor(legend, criteria, { onInput, emptyText = 'No conditions: it holds for everyone.' } = {}) {
  const rows = h('div', { class: 'conds' });
  const empty = h('p', { class: 'hint' }, emptyText);
  const box = h('fieldset', { class: 'criteria' }, h('legend', null, legend), empty, rows);
  const update = (changed = true) => {
    empty.hidden = rows.children.length > 0;
    if (changed) onInput?.();
  };
  const addRow = (row = { attr: '', op: 'eq', value: '' }, changed = true) => {
    const attr = h('input', { type: 'text', class: 'mono', value: row.attr, spellcheck: 'false', 'data-role': 'attr' });
    const op = h('select', { 'data-role': 'op' },
      OPERATORS.map(([value, text]) => h('option', { value }, text)));
    op.value = row.op;
    const value = h('input', { type: 'text', class: 'mono', value: row.value, spellcheck: 'false', 'data-role': 'value' });
    const line = h('div', { class: 'cond' },
      field('Attribute', attr), field('Operator', op),
      field('Value', value), button('Remove', () => { line.remove(); update(); },
        { kind: 'small', 'aria-label': 'Remove this condition' }));
    for (const el of [attr, op, value]) el.addEventListener('input', () => onInput?.());
    rows.append(line);
    update(changed);
    return line;
  };
  box.append(h('p', { class: 'hint' },
    'Values are JSON when they read as JSON (18, true, "18"), text otherwise; ' +
    '"is one of" takes a comma-separated list.'),
  button('Add condition', () => addRow().querySelector('input').focus(), { kind: 'small' }));
  for (const row of criteriaRows(criteria) ?? []) addRow(row, false);
  update(false);
  const read = () => rowsCriteria([...rows.children].map((line) => ({
    attr: line.querySelector('[data-role=attr]').value,
    op: line.querySelector('[data-role=op]').value,
    value: line.querySelector('[data-role=value]').value,
  })));
  return { el: box, read, addRow };
}
