// Flat ESLint config. Folder names say where code may run: the streaming core, the simulator,
// the browser-mode host, the main-process core, shared/ and renderer/ must never import electron,
// so that they run in Node, in tests and in the CLI. The renderer also imports nothing of Node and
// nothing under electron/: it talks to main through shared/ types and window.monitor only.
//
// IPC has two homes: ipcMain lives in electron/ipc/ (where every handler runs the sender guard),
// ipcRenderer in electron/preload.ts (which exposes one narrow API, never ipcRenderer itself).
// Pushing to a window goes through the view's MessagePort (electron/ipc/views.ts), so
// `webContents.send` is banned everywhere but electron/ipc/.
//
// Flat config replaces a rule's options per file rather than merging them, so each block below
// restates the full option list for its files; later blocks win.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const EXPORT_DEFAULT = { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' };

const SEND_MESSAGE =
  'Windows get events through their view port (electron/ipc/views.ts); webContents.send is for electron/ipc/ only.';
const WEBCONTENTS_SEND = [
  {
    selector:
      "MemberExpression[property.name=/^(send|sendToFrame)$/][object.property.name='webContents']",
    message: SEND_MESSAGE,
  },
  {
    selector: "MemberExpression[property.name=/^(send|sendToFrame)$/][object.name='webContents']",
    message: SEND_MESSAGE,
  },
];

/** Bans reaching ipcMain / ipcRenderer as a property (`electron.ipcMain`, `require('electron').ipcRenderer`). */
function memberBan(name, home) {
  return {
    selector: `MemberExpression[property.name='${name}']`,
    message: `${name} is used in ${home} only.`,
  };
}
const IPC_MAIN_MEMBER = memberBan('ipcMain', 'electron/ipc/');
const IPC_RENDERER_MEMBER = memberBan('ipcRenderer', 'electron/preload.ts');

function electronImportNames(names) {
  return {
    paths: [
      {
        name: 'electron',
        importNames: names,
        message:
          'ipcMain is used in electron/ipc/ only (behind the sender guard); ipcRenderer in electron/preload.ts only.',
      },
    ],
  };
}

const noElectron = {
  paths: [
    {
      name: 'electron',
      message: 'This folder runs without Electron; keep electron imports in electron/*.ts shells.',
    },
  ],
  patterns: [{ group: ['electron/*'], message: 'This folder runs without Electron.' }],
};

const noElectronFolders = [
  'electron/stream/**',
  'electron/simulator/**',
  'electron/host/**',
  'electron/core/**',
  'electron/rest/**',
  'electron/market/**',
  'electron/relay/**',
  'electron/cli/**',
  'electron/cli.ts',
  'shared/**',
  'renderer/**',
];

const rendererImports = {
  paths: [
    ...noElectron.paths,
    ...builtinModules
      .filter((name) => !name.startsWith('_') && !name.startsWith('node:'))
      .map((name) => ({
        name,
        message: 'The renderer runs in a sandboxed page: no Node modules.',
      })),
  ],
  patterns: [
    ...noElectron.patterns,
    { regex: '^node:', message: 'The renderer runs in a sandboxed page: no Node modules.' },
    {
      regex: '(^|/)electron(/|$)',
      message: 'The renderer imports shared/ only; main-process code stays out of the page.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.vite/**',
      'dist/**',
      'out/**',
      'release/**',
      'coverage/**',
      'playwright-report/**',
      'test-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', EXPORT_DEFAULT, ...WEBCONTENTS_SEND],
    },
  },
  // Application code: ipcMain and ipcRenderer only in their homes (the blocks after this one).
  {
    files: ['electron/**', 'shared/**', 'renderer/**', 'bin/**'],
    rules: {
      'no-restricted-imports': ['error', electronImportNames(['ipcMain', 'ipcRenderer'])],
      'no-restricted-syntax': [
        'error',
        EXPORT_DEFAULT,
        ...WEBCONTENTS_SEND,
        IPC_MAIN_MEMBER,
        IPC_RENDERER_MEMBER,
      ],
    },
  },
  {
    files: ['electron/ipc/**'],
    rules: {
      'no-restricted-imports': ['error', electronImportNames(['ipcRenderer'])],
      'no-restricted-syntax': ['error', EXPORT_DEFAULT, IPC_RENDERER_MEMBER],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', electronImportNames(['ipcMain'])],
      'no-restricted-syntax': ['error', EXPORT_DEFAULT, ...WEBCONTENTS_SEND, IPC_MAIN_MEMBER],
    },
  },
  {
    files: noElectronFolders,
    rules: { 'no-restricted-imports': ['error', noElectron] },
  },
  {
    files: ['renderer/**'],
    rules: { 'no-restricted-imports': ['error', rendererImports] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', URL: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['*.config.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
