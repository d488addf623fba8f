/**
 * The renderer: `renderer/` -> `.vite/renderer/main_window/`, the folder Forge's Vite plugin uses
 * for the renderer named `main_window`, so `npm run build`, `electron-forge package` and
 * `market-monitor web` (which serves this folder) all agree.
 *
 * Built for a strict CSP (`script-src 'self'`): Vite emits only external module scripts and
 * stylesheets, the module-preload polyfill (an extra script Chromium does not need) is off, and
 * assets are never inlined as data: URLs. The built index.html also carries the policy itself in
 * a <meta> tag, so the page is locked down even where nothing sends the header (the app's
 * protocol handler and the browser-mode host send it too). Not in dev: Vite's dev server and
 * React Fast Refresh inject inline scripts and styles.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

export const RENDERER_OUT_DIR = '.vite/renderer/main_window';

/**
 * What the renderer may load: its own files, nothing else. `connect-src 'self'` also covers the
 * browser-mode bridge's ws:// socket on the page's own host and port (CSP Level 3).
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'market-monitor:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: RENDERER_CSP },
        injectTo: 'head-prepend',
      },
    ],
  };
}

const root = fileURLToPath(new URL('./renderer', import.meta.url));
const outDir = fileURLToPath(new URL(`./${RENDERER_OUT_DIR}`, import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react(), cspMeta()],
  build: {
    outDir,
    emptyOutDir: true,
    // Older than any Chromium this runs in, on purpose: Electron 45's is past 150 (Electron 43
    // already shipped 150), and browser mode should work in any browser from the last few years.
    target: 'chrome120',
    sourcemap: true,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  clearScreen: false,
});
