import { defineConfig } from 'vitest/config';

/**
 * Tests that compare throughput with and without a hostile pipeline measure one gateway against
 * itself: they run in a group of their own, after every other file, alone on the machine.
 */
const ALONE = ['test/gateway/hostile-workers.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The machine has 2 cores; brokers and gateways spawned by tests need CPU of their own.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ALONE },
      },
      {
        extends: true,
        test: {
          name: 'throughput',
          include: ALONE,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
