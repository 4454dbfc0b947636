// API tokens (API.md §10): the tokens this token may see, a new one made
// with scopes (none that this token lacks: dynconf would refuse them) and
// shown once, revocation (of it and every token made under it).

import { listAll, request } from '../api.js';
import { button, fill, field, h, notice, seg, table, when } from '../dom.js';
import { loadAndPoll } from '../live.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TTLS = [['', 'As long as this token lives'], ['3600', '1 hour'], ['86400', '1 day'],
  ['604800', '1 week'], ['2592000', '30 days'], ['31536000', '1 year']];

export default async function tokensPage(ctx) {
  const { main, me } = ctx;
  const status = h('div', { 'aria-live': 'polite' });
  const secretBox = h('div');
  const listBox = h('div');
  const say = (kind, text) => fill(status, notice(kind, text));

  // The scopes this token holds are the ones it may give; whoami lists
  // them with the implied ones (admin: every scope this dynconf knows).
  const mine = me.scopes;
  const name = h('input', { type: 'text', class: 'mono', required: true, spellcheck: 'false' });
  const ttl = h('select', null, TTLS.map(([v, t]) => h('option', { value: v }, t)));
  const boxes = mine.map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: s }), s));
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-token' },
    h('h2', { id: 'new-token' }, 'New token'),
    h('div', { class: 'grid2' }, field('Name', name, 'What it is for: letters, digits, . _ -'), field('Lifetime', ttl)),
    h('fieldset', null, h('legend', null, 'Scopes'), h('div', { class: 'segments-pick' }, boxes),
      h('p', { class: 'hint' }, 'Only the scopes this token holds; …:write includes …:read, admin everything.')),
    h('button', { type: 'submit', class: 'btn primary', 'data-edit': true }, 'Create token'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const scopes = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    if (!NAME.test(name.value.trim())) return say('error', 'The name: letters, digits, . _ - (up to 128).');
    if (scopes.length === 0) return say('error', 'Choose at least one scope.');
    try {
      const body = { name: name.value.trim(), scopes };
      if (ttl.value) body.ttl = Number(ttl.value);
      const r = await request('POST', '/v1/tokens', { body });
      showSecret(r.body);
      fill(status);
      form.reset();
      await load();
    } catch (err) {
      say('error', err.message);
    }
    return undefined;
  });

  const showSecret = (t) => {
    const copy = button('Copy', async () => {
      try {
        await navigator.clipboard.writeText(t.token);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy failed: select the token';
      }
    }, { kind: 'small' });
    fill(secretBox, h('section', { class: 'notice ok', role: 'status' },
      h('p', null, h('strong', null, `Token ${t.name}`), ` (${t.scopes.join(' ')}) — shown this once; keep it now:`),
      h('p', { class: 'row' }, h('code', { class: 'secret', 'data-secret': 'token' }, t.token), copy)));
  };

  let seen = '';
  const load = async () => {
    const { items } = await listAll('/v1/tokens');
    const sig = JSON.stringify(items);
    if (sig === seen) return;
    seen = sig;
    // Makers by name where this token sees them (else their id, or jwt:sub).
    const names = new Map(items.map((t) => [t.id, t.name]));
    const maker = (by) => (by && names.has(by) ? `${names.get(by)} (${by})` : by ?? '');
    fill(listBox, table('Tokens', [
      { label: 'Name', cell: (t) => h('span', null, t.name, t.id === me.token_id ? ' (this one)' : '') },
      { label: 'Scopes', cell: (t) => t.scopes.join(' ') },
      { label: 'Created', cell: (t) => when(t.created_at) },
      { label: 'Expires', cell: (t) => (t.expired ? h('span', { class: 'badge down' }, 'expired') : (t.expires_at ? when(t.expires_at) : 'never')) },
      { label: 'Made by', cell: (t) => maker(t.created_by) },
      {
        label: 'Actions', cell: (t) => button('Revoke', () => revoke(t), {
          kind: 'small danger', edit: true, 'aria-label': `Revoke ${t.name}`,
        }),
      },
    ], items, 'No tokens this one may see.'));
  };

  const revoke = async (t) => {
    const self = t.id === me.token_id ? ' This is the token you are signed in with.' : '';
    if (!window.confirm(`Revoke ${t.name}? It stops working at once, and so does every token made with it.${self}`)) return;
    try {
      await request('DELETE', `/v1/tokens/${seg(t.id)}`);
      say('ok', `Revoked ${t.name}.`);
      await load();
    } catch (e) {
      say('error', e.message);
    }
  };

  fill(main, h('h1', { tabindex: '-1' }, 'Tokens'), status, secretBox, form, h('h2', null, 'Tokens'), listBox);
  await loadAndPoll(ctx, listBox, load);
}
