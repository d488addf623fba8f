/**
 * The main-process bundle: `.vite/build/main.js`, one ES module for the Node inside Electron 45
 * (Node 24: the electron package depends on @types/node ^24). Its syntax target is node22, older
 * than the runtime on purpose: what Node 22 runs, Node 24 runs, and a later Electron needs no change.
 *
 * Everything but `electron` and Node's builtins is bundled, so the packaged app carries no
 * node_modules. It is built as an SSR (server) build because that is Vite's Node target: package
 * `exports` resolve through their `node` conditions and `browser` fields are ignored (ws, pino and
 * msgpackr all ship a browser file that would be wrong in main).
 *
 * Works twice over: `vite build -c vite.main.config.ts` (our `npm run build`, no Forge, no Electron
 * binary) and under @electron-forge/plugin-vite, which merges its own defaults under this config.
 * Setting `build.lib: false` stops Forge from adding its CommonJS `main.cjs` library build.
 */
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';
import type { ConfigEnv } from 'vite';

/** The renderer entries the main process loads; Forge defines these itself when it runs. */
const RENDERER_NAMES = ['main_window'];

/**
 * Kept out of the bundle:
 * - electron and Node's builtins: the runtime provides them.
 * - Optional native add-ons that their packages load inside try/catch and do without:
 *   ws's `bufferutil` / `utf-8-validate` (not installed) and msgpackr's `msgpackr-extract`
 *   (a native string decoder; msgpackr falls back to pure JS). Bundling them would pull native
 *   `.node` loaders into an asar; left external, the packaged app's require fails and is caught.
 */
export const MAIN_EXTERNAL: readonly (string | RegExp)[] = [
  'electron',
  /^electron\//,
  /^node:/,
  ...builtinModules,
  'bufferutil',
  'utf-8-validate',
  'msgpackr-extract',
];

function isForge(env: ConfigEnv): boolean {
  return 'forgeConfig' in env;
}

export default defineConfig((env) => ({
  // Forge passes its own `define` for these (with the dev server URL under `electron-forge start`);
  // a plain `vite build` has no dev server, so the window loads the built files.
  define: isForge(env)
    ? {}
    : Object.fromEntries(
        RENDERER_NAMES.flatMap((name) => {
          const key = name.toUpperCase().replaceAll('-', '_');
          return [
            [`${key}_VITE_DEV_SERVER_URL`, 'undefined'],
            [`${key}_VITE_NAME`, JSON.stringify(name)],
          ];
        }),
      ),
  build: {
    lib: false,
    ssr: 'electron/main.ts',
    target: 'node22',
    outDir: '.vite/build',
    // main, preload and (under Forge) other entries share the folder: never wipe it.
    emptyOutDir: false,
    copyPublicDir: false,
    sourcemap: true,
    minify: false,
    reportCompressedSize: false,
    rolldownOptions: {
      external: [...MAIN_EXTERNAL],
      output: {
        format: 'es',
        entryFileNames: 'main.js',
        chunkFileNames: 'main-[name]-[hash].js',
        // One file: the main process should not depend on chunk loading order.
        codeSplitting: false,
      },
    },
  },
  ssr: {
    target: 'node',
    // Bundle every dependency (ws, msgpackr, pino, zod): the package ships no node_modules.
    noExternal: true,
    external: ['electron'],
  },
  clearScreen: false,
}));
