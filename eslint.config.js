// Flat ESLint config. Folder names say where code may run: the streaming core, the simulator,
// the browser-mode host, shared/ and renderer/ must never import electron, so that they run in
// Node, in tests and in the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noElectron = {
  paths: [
    {
      name: 'electron',
      message: 'This folder runs without Electron; keep electron imports in electron/*.ts shells.',
    },
  ],
  patterns: [{ group: ['electron/*'], message: 'This folder runs without Electron.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'coverage/**', 'test-results/**'] },
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
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    files: [
      'electron/stream/**',
      'electron/simulator/**',
      'electron/host/**',
      'electron/cli/**',
      'electron/cli.ts',
      'shared/**',
      'renderer/**',
    ],
    rules: { 'no-restricted-imports': ['error', noElectron] },
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
