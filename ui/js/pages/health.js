// The node's health (GET /v1/health: etcd up or down, the replica's
// revision and lag, the circuit breaker), every two seconds; with
// metrics:read, a digest of GET /v1/metrics (the whole pool's counters).

import { get } from '../api.js';
import { fill, h, notice, table } from '../dom.js';
import { Poller } from '../live.js';

// Prometheus text -> Map(name -> [{labels, value}]).
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (metrics, name, filter = () => true) =>
  (metrics.get(name) ?? []).filter((s) => filter(s.labels)).reduce((n, s) => n + s.value, 0);

const DIGEST = [
  ['Requests served', (m) => sum(m, 'dynconf_http_requests_total')],
  ['Requests answered 5xx', (m) => sum(m, 'dynconf_http_requests_total', (l) => /^5/.test(l.status ?? ''))],
  ['Reads from the replica (hit)', (m) => sum(m, 'dynconf_cache_reads_total', (l) => l.result === 'hit')],
  ['Reads while etcd was unreachable (stale)', (m) => sum(m, 'dynconf_cache_reads_total', (l) => l.result === 'stale')],
  ['etcd calls', (m) => sum(m, 'dynconf_etcd_calls_total')],
  ['etcd failures', (m) => sum(m, 'dynconf_etcd_failures_total')],
  ['Circuit breaker opened', (m) => sum(m, 'dynconf_circuit_breaker_opened_total')],
  ['Replica events applied', (m) => sum(m, 'dynconf_replica_events_total')],
  ['Replica resyncs', (m) => sum(m, 'dynconf_replica_resyncs_total')],
  ['Watches waiting', (m) => sum(m, 'dynconf_watches_waiting')],
  ['Responders', (m) => sum(m, 'dynconf_responders')],
];

export default async function healthPage(ctx) {
  const { main, can, me } = ctx;
  const box = h('div', { 'aria-live': 'polite' });
  const metricsBox = h('div');
  fill(main, h('h1', { tabindex: '-1' }, 'Health'), box,
    can('metrics:read') ? [h('h2', null, 'Metrics (whole pool)'), metricsBox] : null,
    h('h2', null, 'This token'),
    h('dl', { class: 'result' }, h('dt', null, 'Actor'), h('dd', null, me.actor),
      h('dt', null, 'Kind'), h('dd', null, me.kind),
      h('dt', null, 'Scopes'), h('dd', null, me.scopes.join(' ') || 'none'),
      me.expires_at ? [h('dt', null, 'Expires'), h('dd', null, me.expires_at)] : null));

  const item = (label, value, cls) => h('div', null, h('dt', null, label),
    h('dd', null, cls ? h('span', { class: `badge ${cls}` }, value) : value));
  const load = async () => {
    try {
      const hb = (await get('/v1/health')).body;
      const breaker = hb.circuit_breaker ?? 'unknown';
      fill(box, h('dl', { class: 'kv' },
        item('Status', hb.status),
        item('etcd', hb.etcd, hb.etcd === 'up' ? 'up' : 'down'),
        item('Circuit breaker', breaker, breaker.replace('_', '-')),
        item('Replica revision', String(hb.replica_revision)),
        item('Replica lag', hb.replica_lag_ms === null ? 'not in step yet' : `${hb.replica_lag_ms} ms`),
        item('Version', hb.version)));
    } catch (e) {
      fill(box, notice('error', `dynconf did not answer: ${e.message}`));
    }
    if (can('metrics:read')) {
      try {
        const text = (await get('/v1/metrics', { headers: { Accept: 'text/plain' } })).text;
        const m = parseMetrics(text);
        fill(metricsBox, table('Metrics', [
          { label: 'Counter', cell: (r) => r[0] },
          { label: 'Value', cell: (r) => String(r[1]) },
        ], DIGEST.map(([label, fn]) => [label, fn(m)])));
        metricsBox.querySelector('table')?.classList.add('metrics');
      } catch (e) {
        fill(metricsBox, notice('error', e.message));
      }
    }
  };
  await load();
  const poll = new Poller(load, 2000);
  ctx.onLeave(() => poll.stop());
}
