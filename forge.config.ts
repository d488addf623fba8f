/**
 * Electron Forge: `npm start` (electron-forge start: Vite dev server for the renderer, main and
 * preload built in watch mode, the app on the embedded simulator) and `npm run package`.
 * Installers come from electron-builder (`npm run dist`, electron-builder.yml); Forge has no
 * makers here.
 *
 * The Vite plugin builds the same three bundles as `npm run build`, from the same configs, into
 * the same `.vite/` layout: main -> .vite/build/main.js, preload -> .vite/build/preload.js,
 * renderer `main_window` -> .vite/renderer/main_window/. Both Forge and the configs need the
 * Electron binary only to run or package, never to build.
 *
 * The fuses are the same as electron-builder's `electronFuses`: no ELECTRON_RUN_AS_NODE, no
 * NODE_OPTIONS, no --inspect, code only from the (integrity-checked) app.asar, cookies encrypted,
 * and no extra privileges for file:// pages (the app is served from app://, never file://).
 */
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

export const FUSES = {
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
} as const;

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Market Monitor',
    executableName: 'market-monitor',
    appBundleId: 'app.marketmonitor.desktop',
    appCategoryType: 'public.app-category.finance',
    // A base path: Electron Packager adds the platform's extension and embeds build/icon.icns on
    // macOS and build/icon.ico on Windows, both drawn by build/make-icons.mjs. It ignores the
    // option on Linux, where only a BrowserWindow `icon` or a desktop entry gives the window one.
    icon: 'build/icon',
    asar: true,
  },
  rebuildConfig: {},
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main.ts', config: 'vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload.ts', config: 'vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
    }),
    new FusesPlugin({ version: FuseVersion.V1, ...FUSES }),
  ],
};

// Forge loads this file and takes its default export as the configuration.
export default config;
