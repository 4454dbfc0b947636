// Keeping pages current. A Watch long-polls GET /v1/watch (API.md §6) on
// a resource folder from the revision a list was read at, and calls back
// on each change; a 410 (the history moved past it) asks the page to list
// again. For resources that /v1/watch does not cover, a Poller reads
// again every few seconds while the tab is visible.

import { ApiError, get } from './api.js';
import { fill, notice } from './dom.js';

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(t);
    resolve();
  }, { once: true });
});

export class Watch {
  // prefix: "flags/default/"; since: the revision the page's data was
  // read at; onChange(events) after changes; onReset() after a 410, which
  // must read again and return the new revision.
  constructor(prefix, since, onChange, onReset) {
    this.prefix = prefix;
    this.since = since;
    this.onChange = onChange;
    this.onReset = onReset;
    this.abort = new AbortController();
    this.run();
  }

  async run() {
    const { signal } = this.abort;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const r = await get('/v1/watch', {
          query: { prefix: this.prefix, since: this.since, timeout: 25 }, signal,
        });
        failures = 0;
        if (signal.aborted) return;
        this.since = r.body.revision;
        if (r.body.events.length > 0) await this.onChange(r.body.events);
      } catch (e) {
        if (signal.aborted || e.name === 'AbortError') return;
        if (e instanceof ApiError && e.status === 410) {
          this.since = await this.onReset();
          continue;
        }
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return;
        failures += 1;
        await sleep(Math.min(1000 * 2 ** failures, 15000), signal);
      }
    }
  }

  stop() {
    this.abort.abort();
  }
}

export class Poller {
  constructor(fn, everyMs = 5000) {
    this.fn = fn;
    this.timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !this.busy) {
        this.busy = true;
        Promise.resolve(this.fn()).catch(() => {}).finally(() => {
          this.busy = false;
        });
      }
    }, everyMs);
  }

  stop() {
    clearInterval(this.timer);
  }
}

// A page's first read, then a Poller on it while the page is shown; a
// first read that fails says why in box and polls nothing.
export async function loadAndPoll(ctx, box, load, everyMs = 5000) {
  try {
    await load();
  } catch (e) {
    fill(box, notice('error', e.message));
    return;
  }
  const poll = new Poller(load, everyMs);
  ctx.onLeave(() => poll.stop());
}
