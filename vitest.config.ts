import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One local warehouse server for the suite; each file uses databases of its own on it.
    // Tests start `tgpulse` processes from dist/, built first when stale (test/support/cli.ts).
    // The fault suite (test/faults/) prints what it injected and survived at the end (fault-summary.ts).
    globalSetup: [
      'test/support/cli-build-setup.ts',
      'test/support/warehouse-global-setup.ts',
      'test/support/suite-setup.ts',
    ],
    // Integration tests each start their own nats-server; the machine has 2
    // cores, so keep file-level parallelism modest.
    maxWorkers: 2,
    // The embedded driver's own tests need chDB's one-folder-per-process rule: isolate files in forks.
    pool: 'forks',
  },
});
