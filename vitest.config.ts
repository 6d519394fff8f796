import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // Set-up hooks build whole corpora and start servers; on a loaded 2-core machine they need more than 30 s.
    hookTimeout: 120_000,
    // Two cores in CI: keep worker count small so TLS/e2e tests do not starve each other.
    maxWorkers: 2,
    coverage: {
      // `npm run coverage`: the pure injection core is held to a floor; adapters are reported only.
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'src/core/**/*.ts': { lines: 90, branches: 80, functions: 90 } },
    },
  },
});
