import { describe, expect, it } from 'vitest';
import {
  checkSender,
  guardSender,
  type SenderEvent,
  type SenderFrame,
} from '../../../electron/ipc/guard.ts';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  appOrigins,
  isOurUrl,
  originOf,
} from '../../../electron/ipc/origin.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';

describe('originOf', () => {
  it('gives our scheme a real origin where URL.origin says "null"', () => {
    expect(new URL(APP_ENTRY_URL).origin).toBe('null');
    expect(originOf(APP_ENTRY_URL)).toBe(APP_ORIGIN);
    expect(originOf('app://market-monitor/assets/index.js?x#y')).toBe(APP_ORIGIN);
    expect(originOf('app://elsewhere/index.html')).toBe('app://elsewhere');
  });

  it('uses the standard origin for http(s)', () => {
    expect(originOf('http://localhost:5173/src/main.tsx')).toBe('http://localhost:5173');
    expect(originOf('https://evil.example/a')).toBe('https://evil.example');
  });

  it('has no origin for schemes that can never be ours, credentials, or garbage', () => {
    for (const url of [
      'file:///etc/passwd',
      'data:text/html,<script>1</script>',
      'about:blank',
      'blob:app://market-monitor/1234',
      'javascript:alert(1)',
      'app:/no-host',
      'app://user:pw@market-monitor/index.html',
      'not a url',
      '',
    ]) {
      expect(originOf(url), url).toBeUndefined();
    }
  });

  it('appOrigins adds the dev server only when there is one', () => {
    expect(appOrigins(undefined)).toEqual([APP_ORIGIN]);
    expect(appOrigins('http://localhost:5173/')).toEqual([APP_ORIGIN, 'http://localhost:5173']);
    expect(() => appOrigins('file:///tmp')).toThrow(RangeError);
  });

  it('isOurUrl compares whole origins', () => {
    const origins = appOrigins(undefined);
    expect(isOurUrl(APP_ENTRY_URL, origins)).toBe(true);
    expect(isOurUrl('app://market-monitor.evil.example/', origins)).toBe(false);
    expect(isOurUrl('http://localhost:5173/', origins)).toBe(false);
    expect(isOurUrl('http://localhost:5173/', appOrigins('http://localhost:5173'))).toBe(true);
    expect(isOurUrl('http://localhost:5174/', appOrigins('http://localhost:5173'))).toBe(false);
  });
});

function frame(url: string, extra: Partial<SenderFrame> = {}): SenderFrame {
  return { url, parent: null, processId: 3, routingId: 7, detached: false, ...extra };
}

function event(options: {
  id?: number;
  destroyed?: boolean;
  mainFrame?: SenderFrame;
  senderFrame?: SenderFrame | null;
}): SenderEvent {
  const mainFrame = options.mainFrame ?? frame(APP_ENTRY_URL);
  return {
    sender: {
      id: options.id ?? 1,
      isDestroyed: () => options.destroyed ?? false,
      mainFrame,
    },
    senderFrame: options.senderFrame === undefined ? mainFrame : options.senderFrame,
  };
}

const policy = { isOurWindow: (id: number) => id === 1, origins: [APP_ORIGIN] };

function refusal(e: SenderEvent): string | undefined {
  const verdict = checkSender(e, policy);
  if (verdict.ok) return undefined;
  expect(verdict.error.code).toBe('forbidden');
  return verdict.error.message;
}

describe('checkSender', () => {
  it('accepts the main frame of our window on our origin, even through a second frame object', () => {
    expect(checkSender(event({}), policy)).toEqual({ ok: true, value: undefined });
    const main = frame(APP_ENTRY_URL);
    expect(checkSender(event({ mainFrame: main, senderFrame: { ...main } }), policy).ok).toBe(true);
  });

  it('refuses a webContents that is not one of our windows', () => {
    expect(refusal(event({ id: 99 }))).toBe('not one of our windows');
  });

  it('refuses a destroyed sender', () => {
    expect(refusal(event({ destroyed: true }))).toBe('the sending window is gone');
  });

  it('refuses when the sending frame is gone (senderFrame null) or detached', () => {
    expect(refusal(event({ senderFrame: null }))).toBe('the sending frame is gone');
    expect(refusal(event({ senderFrame: frame(APP_ENTRY_URL, { detached: true }) }))).toBe(
      'the sending frame is detached',
    );
  });

  it('refuses a sub-frame, even one on our origin', () => {
    const main = frame(APP_ENTRY_URL);
    const sub = frame(APP_ENTRY_URL, { parent: main, routingId: 8 });
    expect(refusal(event({ mainFrame: main, senderFrame: sub }))).toBe('sent from a sub-frame');
  });

  it('refuses a top frame that is not the window’s current main frame (a document being replaced)', () => {
    const current = frame(APP_ENTRY_URL, { routingId: 20 });
    const previous = frame(APP_ENTRY_URL, { routingId: 19 });
    expect(refusal(event({ mainFrame: current, senderFrame: previous }))).toBe(
      'not the main frame of the window',
    );
    const otherProcess = frame(APP_ENTRY_URL, { processId: 4, routingId: 20 });
    expect(refusal(event({ mainFrame: current, senderFrame: otherProcess }))).toBe(
      'not the main frame of the window',
    );
  });

  it('refuses foreign origins', () => {
    for (const url of [
      'https://evil.example/',
      'file:///tmp/index.html',
      'data:text/html,hi',
      'about:blank',
      'app://other-host/index.html',
      'http://localhost:5173/',
    ]) {
      const main = frame(url);
      expect(refusal(event({ mainFrame: main })), url).toBe('foreign origin');
    }
  });

  it('accepts the dev server only when it is one of the origins', () => {
    const dev = frame('http://localhost:5173/');
    expect(checkSender(event({ mainFrame: dev }), policy).ok).toBe(false);
    const devPolicy = { ...policy, origins: appOrigins('http://localhost:5173') };
    expect(checkSender(event({ mainFrame: dev }), devPolicy).ok).toBe(true);
  });

  it('refuses instead of throwing when the sender cannot be inspected', () => {
    const e = {
      sender: {
        id: 1,
        isDestroyed: () => {
          throw new Error('Object has been destroyed');
        },
        mainFrame: frame(APP_ENTRY_URL),
      },
      senderFrame: frame(APP_ENTRY_URL),
    };
    expect(refusal(e)).toBe('the sender could not be inspected');
  });

  it('guardSender logs each refusal with the channel and reason, without the query string', () => {
    const ring = new LogRing();
    const log = ringLogger(ring);
    const main = frame('https://evil.example/page?token=abc#x');
    guardSender(event({ mainFrame: main }), 'settings:get', policy, log);
    guardSender(event({}), 'settings:get', policy, log);
    const records = ring.records().filter((r) => r.msg === 'refused an IPC message');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      channel: 'settings:get',
      reason: 'foreign origin',
      url: 'https://evil.example/page',
    });
  });
});
