/**
 * The preload bundle: `.vite/build/preload.js`, ONE CommonJS file whose only `require` is
 * `electron`.
 *
 * The window is sandboxed, and a sandboxed preload is not loaded by Node's module system: Electron
 * reads the file and runs it as a plain script with a small `require` that knows `electron` and a
 * few polyfills, so there are no imports, no chunks and no ESM (whatever `"type"` package.json
 * says). Everything the preload uses (shared/channels.ts) is inlined. test/unit/build/bundles.test.ts
 * checks the output.
 *
 * Runs under `vite build -c vite.preload.config.ts` and under @electron-forge/plugin-vite.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    lib: false,
    // Older than Electron 45's Chromium on purpose (Electron 43 already shipped Chromium 150):
    // syntax an older Chromium runs, a newer one runs too.
    target: 'chrome140',
    outDir: '.vite/build',
    // Shared with the main bundle: never wipe it.
    emptyOutDir: false,
    copyPublicDir: false,
    sourcemap: 'inline',
    minify: false,
    reportCompressedSize: false,
    modulePreload: false,
    rolldownOptions: {
      input: { preload: 'electron/preload.ts' },
      external: ['electron', 'electron/renderer'],
      output: {
        format: 'cjs',
        entryFileNames: '[name].js',
        chunkFileNames: '[name].js',
        assetFileNames: '[name].[ext]',
        codeSplitting: false,
      },
    },
  },
  clearScreen: false,
});
