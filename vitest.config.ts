import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores in CI: keep worker count small so TLS/e2e tests do not starve each other.
    maxWorkers: 2,
  },
});
