import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests each start their own nats-server and chDB folder; the
    // machine has 2 cores, so keep file-level parallelism modest.
    maxWorkers: 2,
    // chDB allows one data folder per process: isolate files in forks.
    pool: 'forks',
  },
});
