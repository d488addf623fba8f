import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // Playwright owns these (playwright.config.ts); vitest must never pick them up.
    exclude: ['test/e2e/**', 'test/e2e-electron/**', 'node_modules/**', '.vite/**'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests open real sockets on loopback; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
