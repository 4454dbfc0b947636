// Building the page. Every text that comes from the API goes in through
// text nodes (h's string children, textContent): nothing here ever parses
// data as HTML, so a flag key or a config value holding markup shows as
// the text it is.

// h('button', {type: 'button', onclick: fn}, 'Save'): an element. Attributes
// named on* take functions (listeners); class, for and data-* are spelt as
// in HTML; true sets a boolean attribute, false and null leave it out.
// Children: strings (text), nodes, arrays of them, null (nothing).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value' || name === 'checked') {
      el[name] = value;
    } else if (name === 'innerHTML' || name === 'outerHTML') {
      throw new Error('h: never markup');
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replace el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A labelled control: <div class="field"><label for=id>…</label>control hint</div>.
export function field(label, control, hint) {
  control.id ||= uid();
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hid = uid('hint');
    control.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

// A notice in a page: kind is info, ok, warn or error. role=alert for
// errors, so that screen readers say them when they appear.
export function notice(kind, ...text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// A table; columns: [{label, cell(row) -> node or text}], rows: objects.
export function table(caption, columns, rows, empty = 'Nothing here yet.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  // Explicit roles: at phone width the cells are laid out as blocks
  // (app.css), which would cost the table its semantics otherwise.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { role: 'table' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' },
        columns.map((c) => h('th', { scope: 'col', role: 'columnheader' }, c.label)))),
      h('tbody', { role: 'rowgroup' }, rows.map((row) => h('tr', { role: 'row' },
        columns.map((c) => h('td', { 'data-label': c.label, role: 'cell' }, c.cell(row))))))));
}

// JSON as text, compact when short.
export function jsonText(value, indent = 2) {
  if (value === undefined) return '';
  const compact = JSON.stringify(value);
  return compact.length <= 60 ? compact : JSON.stringify(value, null, indent);
}

// A <code> holding a JSON value as text.
export function code(value) {
  return h('code', { class: 'json' }, jsonText(value));
}

// "2026-11-22T10:00:00Z" as the browser's local date and time.
export function when(text) {
  if (!text) return '';
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return String(text);
  return h('time', { datetime: text, title: text }, d.toLocaleString());
}

// Seconds left until an RFC 3339 time, as "1m 05s"; updated by tickers.
export function countdownText(expiresAt, now = Date.now()) {
  const left = Math.floor((new Date(expiresAt).getTime() - now) / 1000);
  if (!Number.isFinite(left)) return '';
  if (left <= 0) return 'expired';
  const m = Math.floor(left / 60);
  const s = left % 60;
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

// A <span> that counts down to expiresAt, once a second (tick() in app.js).
export function countdown(expiresAt) {
  const el = h('span', { class: 'countdown', 'data-expires': expiresAt },
    countdownText(expiresAt));
  return el;
}

export function tickCountdowns(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('.countdown[data-expires]')) {
    const text = countdownText(el.dataset.expires, now);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('expired', text === 'expired');
  }
}

// A button; kind: '' (plain), primary or danger. Buttons that change data
// carry data-edit: they are disabled while etcd is unreachable (app.js).
export function button(label, onclick, { kind = '', edit = false, ...attrs } = {}) {
  return h('button', {
    type: 'button', class: `btn ${kind}`.trim(), onclick, 'data-edit': edit || null, ...attrs,
  }, label);
}

// The text a user typed, as JSON when it is JSON, else as a string:
// 18 -> 18, true -> true, "18" -> "18", US -> "US".
export function parseLoose(text) {
  const t = text.trim();
  if (t === '') return '';
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

// The reverse: a string shows bare unless it would read back as another type.
export function showLoose(value) {
  if (typeof value === 'string') {
    const back = parseLoose(value);
    return typeof back === 'string' && back === value ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

// Parse JSON text: {ok, value} or {ok: false, error}.
export function parseJson(text) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: e.message };
  }
}

// The hash of a page: link('flags', {env: 'x'}) -> '#/flags?env=x'.
export function link(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const qs = q.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

// Path segments for the API, each encoded: seg('a b') -> 'a%20b'.
export const seg = (s) => encodeURIComponent(s);
