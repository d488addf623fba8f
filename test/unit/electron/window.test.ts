/**
 * window.ts against fake Electron objects: what every window gets (webPreferences, guards,
 * permissions), which links may leave the app, and the app:// protocol handler against real files
 * in a temp dir that has a secret next to (outside) the served folder.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, WebContents } from 'electron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, APP_ORIGIN, appOrigins } from '../../../electron/ipc/origin.ts';
import { LogRing, ringLogger } from '../../../electron/stream/log.ts';
import {
  ALLOWED_EXTERNAL_HOSTS,
  RENDERER_CSP,
  WINDOW_OPTIONS,
  appProtocolResponse,
  buildPaths,
  createWindow,
  handleAppProtocol,
  hardenSession,
  hardenWebContents,
  externalUrl,
  isAllowedExternal,
  registerAppScheme,
  secureWebPreferences,
  type HardeningPolicy,
  type WindowDeps,
} from '../../../electron/window.ts';
import { FakeSession, FakeWebContents, createFakeElectron } from '../../support/fake-electron.ts';

const EXPECTED_PREFERENCES = {
  preload: '/app/.vite/build/preload.js',
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  spellcheck: false,
  plugins: false,
  safeDialogs: true,
  devTools: false,
};

function policy(origins: readonly string[] = [APP_ORIGIN]) {
  const ring = new LogRing();
  const opened: string[] = [];
  const p: HardeningPolicy = {
    origins,
    openExternal: (url) => {
      opened.push(url);
      return Promise.resolve();
    },
    log: ringLogger(ring),
  };
  return { policy: p, opened, ring };
}

function hardened(origins?: readonly string[]) {
  const t = policy(origins);
  const contents = new FakeWebContents(new FakeSession(), APP_ENTRY_URL);
  hardenWebContents(contents as unknown as WebContents, t.policy);
  return { ...t, contents };
}

describe('webPreferences', () => {
  it('spells out every security flag', () => {
    expect(secureWebPreferences('/app/.vite/build/preload.js', { devTools: false })).toEqual(
      EXPECTED_PREFERENCES,
    );
    expect(secureWebPreferences('/p.js', { devTools: true }).devTools).toBe(true);
  });

  it('every window is created with them, hidden until ready-to-show, hardened and tracked', () => {
    const fake = createFakeElectron();
    const t = policy();
    const tracked: unknown[] = [];
    const deps: WindowDeps = {
      BrowserWindow: fake.BrowserWindow as unknown as WindowDeps['BrowserWindow'],
      views: { track: (contents) => tracked.push(contents) },
      hardening: t.policy,
      preloadPath: '/app/.vite/build/preload.js',
      devTools: false,
    };
    createWindow(deps, { url: APP_ENTRY_URL });
    createWindow(deps, { url: APP_ENTRY_URL });

    const windows = fake.windows();
    expect(windows).toHaveLength(2);
    for (const win of windows) {
      expect(win.options).toEqual({ ...WINDOW_OPTIONS, webPreferences: EXPECTED_PREFERENCES });
      expect(win.options.show).toBe(false);
      expect(win.webContents.loaded).toEqual([APP_ENTRY_URL]);
      expect(win.webContents.windowOpenHandler).toBeTypeOf('function');
      expect(win.webContents.listenerCount('will-navigate')).toBe(1);
      expect(tracked).toContain(win.webContents);
      expect(win.shown).toBe(false);
      win.emit('ready-to-show');
      expect(win.shown).toBe(true);
    }
    expect(fake.defaultSession.requestHandler).toBeTypeOf('function');
  });

  it('build paths follow the Vite layout next to the main bundle', () => {
    expect(buildPaths('/app/.vite/build')).toEqual({
      preload: '/app/.vite/build/preload.js',
      rendererDir: '/app/.vite/renderer/main_window',
    });
  });
});

describe('external links', () => {
  it('allows https links to the allowlisted hosts only', () => {
    expect(ALLOWED_EXTERNAL_HOSTS).toContain('docs.alpaca.markets');
    for (const url of [
      'https://alpaca.markets/',
      'https://docs.alpaca.markets/docs/about-market-data-api',
      'https://app.alpaca.markets/paper/dashboard/overview',
      'https://github.com/alpacahq/alpaca-trade-api-js?tab=readme#x',
    ]) {
      expect(isAllowedExternal(url), url).toBe(true);
    }
    for (const url of [
      'http://alpaca.markets/',
      'https://evil.example/',
      'https://alpaca.markets.evil.example/',
      'https://evil-alpaca.markets/',
      'https://sub.docs.alpaca.markets/',
      'https://alpaca.markets:8443/',
      'https://user:pw@github.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ms-msdt:/id PCWDiagnostic',
      'smb://github.com/share',
      APP_ENTRY_URL,
      'not a url',
      // Text the URL parser forgives, but no honest link carries: refused outright.
      ' https://github.com/x ',
      'ht\ttps://git\nhub.com/x',
      'https://github.com/x\u0000',
    ]) {
      expect(isAllowedExternal(url), JSON.stringify(url)).toBe(false);
    }
  });

  it('hands the OS the canonical form of the URL it checked', () => {
    expect(externalUrl('https://%67ithub.com/a b')).toBe(undefined); // a space: refused
    expect(externalUrl('https://%67ithub.com/x')).toBe('https://github.com/x');
    expect(externalUrl('HTTPS://GitHub.com/x')).toBe('https://github.com/x');
    const t = hardened();
    expect(t.contents.openWindow('https://%67ithub.com/x')).toEqual({ action: 'deny' });
    expect(t.opened).toEqual(['https://github.com/x']);
  });

  it('denies every new window; an allowlisted link opens in the browser instead', () => {
    const t = hardened();
    expect(t.contents.openWindow('https://evil.example/')).toEqual({ action: 'deny' });
    expect(t.contents.openWindow('https://docs.alpaca.markets/')).toEqual({ action: 'deny' });
    expect(t.contents.openWindow(APP_ENTRY_URL)).toEqual({ action: 'deny' });
    expect(t.opened).toEqual(['https://docs.alpaca.markets/']);
    expect(
      t.ring.records().some((r) => r.msg === 'refused to open a link outside the allowlist'),
    ).toBe(true);
  });
});

describe('navigation guards', () => {
  it('prevents main-frame navigation off our origin and allows our own', () => {
    const t = hardened();
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'data:text/html,x',
      'app://other/',
      'http://localhost:5173/',
    ]) {
      expect(t.contents.emitNavigation('will-navigate', { url }), url).toBe(true);
    }
    expect(t.contents.emitNavigation('will-navigate', { url: APP_ENTRY_URL })).toBe(false);
    expect(t.contents.emitNavigation('will-navigate', { url: `${APP_ORIGIN}/other.html` })).toBe(
      false,
    );
    expect(t.opened).toEqual([]);
  });

  it('opens an allowlisted link the page navigates to in the browser, never in the window', () => {
    const t = hardened();
    expect(t.contents.emitNavigation('will-navigate', { url: 'https://github.com/x' })).toBe(true);
    expect(t.opened).toEqual(['https://github.com/x']);
  });

  it('prevents sub-frame navigations and redirects off our origin', () => {
    const t = hardened();
    expect(
      t.contents.emitNavigation('will-frame-navigate', {
        url: 'https://evil.example/',
        isMainFrame: false,
      }),
    ).toBe(true);
    expect(
      t.contents.emitNavigation('will-frame-navigate', {
        url: 'https://evil.example/',
        isMainFrame: true,
      }),
    ).toBe(true);
    expect(
      t.contents.emitNavigation('will-frame-navigate', { url: APP_ENTRY_URL, isMainFrame: false }),
    ).toBe(false);
    expect(t.contents.emitNavigation('will-redirect', { url: 'https://evil.example/' })).toBe(true);
    expect(t.contents.emitNavigation('will-redirect', { url: APP_ENTRY_URL })).toBe(false);
  });

  it('allows the dev server only when it is one of our origins', () => {
    const packaged = hardened();
    expect(
      packaged.contents.emitNavigation('will-navigate', { url: 'http://localhost:5173/' }),
    ).toBe(true);
    const dev = hardened(appOrigins('http://localhost:5173'));
    expect(dev.contents.emitNavigation('will-navigate', { url: 'http://localhost:5173/' })).toBe(
      false,
    );
    expect(dev.contents.emitNavigation('will-navigate', { url: 'http://localhost:5174/' })).toBe(
      true,
    );
  });

  it('prevents <webview> attachment', () => {
    const t = hardened();
    let prevented = false;
    t.contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) }, {}, {});
    expect(prevented).toBe(true);
  });

  it('hardening twice adds no second set of listeners', () => {
    const t = hardened();
    hardenWebContents(t.contents as unknown as WebContents, t.policy);
    expect(t.contents.listenerCount('will-navigate')).toBe(1);
    expect(t.contents.listenerCount('will-frame-navigate')).toBe(1);
  });
});

describe('permissions', () => {
  it('denies every permission request, check and device', () => {
    const session = new FakeSession();
    const ring = new LogRing();
    hardenSession(session as unknown as Session, ringLogger(ring));
    for (const permission of [
      'media',
      'notifications',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fullscreen',
    ]) {
      let granted: boolean | undefined;
      session.requestHandler?.(null, permission, (g) => (granted = g), {});
      expect(granted, permission).toBe(false);
      expect(session.checkHandler?.(null, permission, APP_ORIGIN, {})).toBe(false);
    }
    expect(session.deviceHandler?.({ deviceType: 'usb', origin: APP_ORIGIN })).toBe(false);
    expect(ring.records().filter((r) => r.msg === 'denied a permission request')).toHaveLength(6);
  });
});

describe('app:// protocol', () => {
  it('registers app as standard, secure and fetch-capable, before ready, and nothing more', () => {
    const fake = createFakeElectron();
    registerAppScheme(fake.protocol);
    expect(fake.protocol.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    const again = createFakeElectron();
    again.app.becomeReady();
    expect(() => registerAppScheme(again.protocol)).toThrow(/before app is ready/);
  });

  let base: string;
  let root: string;
  const SECRET = 'TOP-SECRET-CONTENT';

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'mm-app-protocol-'));
    root = join(base, 'main_window');
    await mkdir(join(root, 'assets'), { recursive: true });
    await writeFile(
      join(root, 'index.html'),
      '<!doctype html><script type="module" src="./assets/app.js"></script>',
    );
    await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(root, 'assets', 'style.css'), 'body{}');
    await writeFile(join(root, '.env'), SECRET);
    await writeFile(join(base, 'secret.txt'), SECRET);
    await symlink(join(base, 'secret.txt'), join(root, 'link-out.txt'));
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const get = (url: string, method = 'GET') =>
    appProtocolResponse(new Request(url, { method }), root);

  it('serves the renderer with its type and a strict CSP', async () => {
    const index = await get('app://market-monitor/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<!doctype html>');
    const csp = index.headers.get('content-security-policy');
    expect(csp).toBe(RENDERER_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');

    const script = await get('app://market-monitor/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1)');
    expect((await get(APP_ENTRY_URL)).status).toBe(200);
    expect((await get('app://market-monitor/assets/style.css')).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
  });

  it('refuses path traversal in every encoding, dotfiles and symlinks out, with a 404 that says nothing', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      '/%252e%252e/secret.txt',
      '/..%252fsecret.txt',
      '/.env',
      '/%2eenv',
      '/link-out.txt',
      '/assets/%00.js',
      '/assets//app.js',
      '/C:%5cWindows%5cwin.ini',
      '/missing.js',
    ]) {
      const response = await get(`app://market-monitor${path}`);
      expect(response.status, path).toBe(404);
      const body = await response.text();
      expect(body, path).not.toContain(SECRET);
      expect(body, path).toBe('Not found');
      expect(response.headers.get('content-security-policy'), path).toBe(RENDERER_CSP);
    }
  });

  it('serves our host only', async () => {
    for (const url of [
      'app://other/index.html',
      'app://market-monitor.evil/index.html',
      'app://market-monitor:8080/index.html',
      'app://MARKET-MONITOR.evil/',
    ]) {
      expect((await get(url)).status, url).toBe(404);
    }
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get('app://market-monitor/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await get('app://market-monitor/index.html', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('handleAppProtocol serves the scheme through protocol.handle after ready', async () => {
    const fake = createFakeElectron();
    fake.app.becomeReady();
    handleAppProtocol(fake.protocol, root, ringLogger(new LogRing()));
    const handler = fake.protocol.handlers.get('app');
    expect(handler).toBeTypeOf('function');
    const response = await handler!(new Request('app://market-monitor/assets/app.js'));
    expect(response.status).toBe(200);
    expect((await handler!(new Request('app://market-monitor/../secret.txt'))).status).toBe(404);
  });
});
