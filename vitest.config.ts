import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The machine has 2 cores; brokers and gateways spawned by tests need CPU of their own.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
