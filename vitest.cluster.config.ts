import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: the scenarios against a real kube-apiserver (test/control-plane).
// One file, one worker: the scenarios share one control plane and run in order.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 15 * 60_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
