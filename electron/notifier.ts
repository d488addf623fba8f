/**
 * Desktop notifications of fired alerts in the app: the core's Notifier seam, implemented with
 * Electron's `Notification`. The class is handed in by main.ts (the one place that imports
 * electron), so this module runs in tests against the fake electron module.
 *
 * A desktop is not a log: a burst (a '*' rule as the market opens) shows at most `maxPerMinute`
 * notifications, and what it held back is said in the next one shown (the alerts log has them
 * all). Shown notifications are kept referenced (the latest few) so that one is not collected
 * before the user clicks it, which would lose the click on some platforms.
 */
import type { AlertFired } from '../shared/api.ts';
import type { Notifier } from './alerts/engine.ts';
import { silentLogger, type Logger } from './stream/log.ts';

/** What this module uses of an Electron Notification. */
export interface DesktopNotification {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
}

export interface DesktopNotificationClass {
  new (options: { title: string; body: string; silent?: boolean }): DesktopNotification;
  isSupported(): boolean;
}

export interface DesktopNotifierOptions {
  readonly Notification: DesktopNotificationClass;
  /** The user clicked a notification: show the app (main.ts focuses or opens a window). */
  readonly onClick?: (fired: AlertFired) => void;
  readonly logger?: Logger;
  /** Default 10. */
  readonly maxPerMinute?: number;
  /** Epoch ms. */
  readonly now?: () => number;
}

/** Notifications kept referenced until a newer one replaces them. */
const KEPT = 8;

export function createDesktopNotifier(options: DesktopNotifierOptions): Notifier {
  const log = (options.logger ?? silentLogger()).child({ module: 'notifier' });
  const max = Math.max(1, options.maxPerMinute ?? 10);
  const now = options.now ?? Date.now;
  const shownAt: number[] = [];
  const kept: DesktopNotification[] = [];
  let held = 0;
  let unsupportedLogged = false;

  return {
    notify(fired: AlertFired): void {
      const N = options.Notification;
      if (!N.isSupported()) {
        if (!unsupportedLogged)
          log.info('this desktop shows no notifications; alerts go to the log');
        unsupportedLogged = true;
        return;
      }
      const t = now();
      while (shownAt.length > 0 && t - shownAt[0]! >= 60_000) shownAt.shift();
      if (shownAt.length >= max) {
        held++;
        return;
      }
      shownAt.push(t);
      const more = held > 0 ? ` (+${held} more in the alerts log)` : '';
      held = 0;
      try {
        const n = new N({ title: `Alert: ${fired.symbol}`, body: `${fired.message}${more}` });
        n.on('click', () => options.onClick?.(fired));
        n.show();
        kept.push(n);
        if (kept.length > KEPT) kept.shift();
      } catch (err) {
        log.warn({ err }, 'a desktop notification could not be shown');
      }
    },
  };
}
