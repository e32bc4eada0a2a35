import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and integration tests that start real servers
// (embedded Kafka, LevelDB on disk, SMTP, S3, HTTP). Forks, not threads: koffi and
// classic-level hold native handles that are safest one per process.
export default defineConfig({
  test: {
    pool: 'forks',
    // Most integration tests wait on Kafka group timers, not the CPU: three files at a time keep
    // `npm test` well under 10 minutes on two cores (vitest's default here would be one).
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'node_modules/**'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One real Kafka broker for the whole run (test/support/kafka-global-setup.ts).
          globalSetup: ['test/support/kafka-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
