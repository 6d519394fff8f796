import { defineConfig } from 'vitest/config';

// Files whose assertions depend on wall-clock time (servers, child processes, slow clients,
// outages). They run after the CPU-bound files, so a property run or a corpus proof on the other
// core cannot push them past their deadlines on a 2-core machine.
const timed = [
  'test/process/**/*.test.ts',
  'test/server/**/*.test.ts',
  'test/transport/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/image/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    // Set-up hooks build whole corpora and start servers; on a loaded 2-core machine they need more than 30 s.
    hookTimeout: 120_000,
    // Two cores in CI: keep worker count small so TLS/e2e tests do not starve each other.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'compute',
          include: ['test/**/*.test.ts'],
          exclude: timed,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timed', include: timed, sequence: { groupOrder: 1 } },
      },
    ],
    coverage: {
      // `npm run coverage`: the pure injection core is held to a floor; adapters are reported only.
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { 'src/core/**/*.ts': { lines: 90, branches: 80, functions: 90 } },
    },
  },
});
