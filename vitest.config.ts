import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Playwright owns these (playwright.config.ts); vitest must never pick them up.
    exclude: ['test/e2e/**', 'test/e2e-electron/**', 'node_modules/**', '.vite/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests open real sockets on loopback; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // The renderer's components and store, in a DOM (happy-dom), with the React JSX transform.
        extends: true,
        plugins: [react()],
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          setupFiles: ['test/renderer/setup.ts'],
        },
      },
    ],
  },
});
