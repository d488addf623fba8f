/**
 * The desktop notifier against the fake electron module's Notification: what a fired alert
 * shows, the click, a burst held back and counted, a desktop without notifications.
 */
import { describe, expect, it } from 'vitest';
import { createDesktopNotifier } from '../../../electron/notifier.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import type { AlertFired } from '../../../shared/api.ts';
import { createFakeElectron } from '../../support/fake-electron.ts';

function fired(seq: number, symbol = 'AAPL'): AlertFired {
  return {
    seq,
    ruleId: 'al-1',
    name: `alert: ${symbol} price above 230`,
    symbol,
    condition: 'price-above',
    level: 230,
    value: 230.5,
    at: 1_000,
    message: `${symbol} traded at 230.50, at or above 230`,
    notify: true,
  };
}

describe('desktop notifier (Electron Notification)', () => {
  it('shows the alert and hands a click to onClick', () => {
    const { Notification } = createFakeElectron();
    const clicked: AlertFired[] = [];
    const notifier = createDesktopNotifier({ Notification, onClick: (f) => clicked.push(f) });
    notifier.notify(fired(1));
    expect(Notification.shown.map((n) => n.options)).toEqual([
      { title: 'Alert: AAPL', body: 'AAPL traded at 230.50, at or above 230' },
    ]);
    Notification.shown[0]!.click();
    expect(clicked.map((f) => f.seq)).toEqual([1]);
  });

  it('a burst shows at most maxPerMinute, and the next one says how many were held', () => {
    const { Notification } = createFakeElectron();
    let now = 0;
    const notifier = createDesktopNotifier({ Notification, maxPerMinute: 2, now: () => now });
    for (let i = 1; i <= 5; i++) notifier.notify(fired(i, `S${i}`));
    expect(Notification.shown).toHaveLength(2);
    now = 60_000;
    notifier.notify(fired(6, 'MSFT'));
    expect(Notification.shown.at(-1)?.options.body).toBe(
      'MSFT traded at 230.50, at or above 230 (+3 more in the alerts log)',
    );
  });

  it('a desktop without notifications: logged once, nothing thrown', () => {
    const { Notification } = createFakeElectron();
    Notification.supported = false;
    const ring = new LogRing();
    const notifier = createDesktopNotifier({ Notification, logger: ringLogger(ring) });
    notifier.notify(fired(1));
    notifier.notify(fired(2));
    expect(Notification.shown).toHaveLength(0);
    expect(ring.records().filter((r) => r.module === 'notifier')).toHaveLength(1);
  });
});
