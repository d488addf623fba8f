/**
 * Browser mode's bridge socket, read in a dedicated worker (renderer/worker-socket.ts), in
 * Chromium against `market-monitor web`: the page starts the bundled worker under the app's
 * Content-Security-Policy and quotes flow through it; and when the worker's script cannot load
 * (aborted, or a 404) or a policy refuses workers, the page opens the socket itself and works as
 * before. The host's headers make the page cross-origin isolated, and the quote frames then come
 * through shared memory (renderer/frame-slot.ts) rather than in messages.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

const PRICE = /^\d{1,3}(?:,\d{3})*\.\d{2,}$/;
const WORKER_SCRIPT = /\/assets\/bridge-worker-[\w-]+\.js$/;

/**
 * Runs before the page's own scripts: adds a second policy, `worker-src 'none'`, as a meta tag as
 * soon as the head exists. (Fulfilling the document from a route with a changed header would make
 * Chromium treat it as public and refuse its loopback socket.) Policies only add up, so the host's
 * own policy still holds.
 */
const REFUSE_WORKERS = `(() => {
  const add = () => {
    if (document.head === null) return false;
    const meta = document.createElement('meta');
    meta.httpEquiv = 'Content-Security-Policy';
    meta.content = "worker-src 'none'";
    document.head.prepend(meta);
    return true;
  };
  if (add()) return;
  const watch = new MutationObserver(() => { if (add()) watch.disconnect(); });
  watch.observe(document, { childList: true, subtree: true });
})();`;

/**
 * Runs before the page's own scripts: counts what the bridge worker posts to the page, by kind
 * (a frame in a message, a notice that a frame is in the shared slot, text).
 */
const COUNT_WORKER_POSTS = `(() => {
  const posts = { frame: 0, slot: 0, text: 0 };
  window.__workerPosts = posts;
  const Native = window.Worker;
  function Counted(...args) {
    const worker = new Native(...args);
    worker.addEventListener('message', (e) => {
      const m = e.data;
      if (m && m.op === 'slot') posts.slot += 1;
      else if (m && m.op === 'message') {
        if (typeof m.data === 'string') posts.text += 1;
        else posts.frame += 1;
      }
    });
    return worker;
  }
  Counted.prototype = Native.prototype;
  window.Worker = Counted;
})();`;

/** The first row's bid changes: the feed is flowing to the screen. */
async function expectQuotesMoving(page: Page): Promise<void> {
  const bid = page.getByRole('table', { name: 'Watchlist' }).getByRole('cell').first();
  await expect(bid).toHaveText(PRICE);
  const before = await bid.textContent();
  await expect(bid).not.toHaveText(before ?? '');
}

test.describe('the bridge socket in a worker', () => {
  test('the page reads its bridge through the bundled worker', async ({ page, webApp }) => {
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expectQuotesMoving(page);
    const scripts = page.workers().map((worker) => worker.url());
    expect(scripts.filter((url) => WORKER_SCRIPT.test(url))).toHaveLength(1);
  });

  test('the page is cross-origin isolated, and frames come through shared memory', async ({
    page,
    webApp,
  }) => {
    await page.addInitScript({ content: COUNT_WORKER_POSTS });
    await page.goto(webApp.url);
    expect(await page.evaluate<boolean>('globalThis.crossOriginIsolated === true')).toBe(true);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expectQuotesMoving(page);
    const posts = await page.evaluate(
      () => (globalThis as unknown as { __workerPosts: Record<string, number> }).__workerPosts,
    );
    // Every frame went into the slot (none is posted while the slot works); text still posts.
    expect(posts.slot).toBeGreaterThan(2);
    expect(posts.frame).toBe(0);
    expect(posts.text).toBeGreaterThan(0);
  });

  for (const how of ['aborted', 'answered 404'] as const) {
    test(`a worker script that cannot load (${how}) leaves the page on its own socket`, async ({
      page,
      webApp,
      pageProblems,
    }) => {
      // The failed request is reported by Chromium; that is the point of this test.
      pageProblems.expect(/Failed to load resource|bridge-worker/);
      let refused = 0;
      await page.route(WORKER_SCRIPT, (route) => {
        refused += 1;
        return how === 'aborted' ? route.abort() : route.fulfill({ status: 404, body: 'gone' });
      });
      await page.goto(webApp.url);
      await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
      await expectQuotesMoving(page);
      expect(refused).toBe(1);
      expect(page.workers().filter((worker) => WORKER_SCRIPT.test(worker.url()))).toHaveLength(0);
    });
  }

  test('a policy that refuses workers leaves the page on its own socket', async ({
    page,
    webApp,
    pageProblems,
  }) => {
    // Chromium reports the refused worker; that is the point of this test.
    pageProblems.expect(/Content Security Policy|worker-src|bridge-worker/);
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes("worker-src 'none'")) refusals.push(message.text());
    });
    await page.addInitScript({ content: REFUSE_WORKERS });
    await page.goto(webApp.url);
    await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('live');
    await expectQuotesMoving(page);
    expect(page.workers().filter((worker) => WORKER_SCRIPT.test(worker.url()))).toHaveLength(0);
    // The worker was refused by the policy, not merely never asked for.
    expect(refusals.length).toBeGreaterThan(0);
  });
});
