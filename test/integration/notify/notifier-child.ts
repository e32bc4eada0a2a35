/**
 * The notifier as a child process for the crash test: env BROKERS, REGISTRY, STATE_DIR, HOOK_URL,
 * ALERTS_TOPIC, GROUP_ID. Prints READY once consuming. Killed with SIGKILL by the test.
 */
import { configSchema } from '../../../src/config/config.js';
import { startNotifier } from '../../../src/sinks/notify/notifier-service.js';

const env = process.env;
const config = configSchema.parse({
  kafka: { brokers: env.BROKERS, partitions: 2 },
  schemaRegistry: { url: env.REGISTRY },
  topics: { alerts: env.ALERTS_TOPIC, alertsDlq: `${env.ALERTS_TOPIC}.dlq`, silences: `${env.ALERTS_TOPIC}.silences` },
  state: { dir: env.STATE_DIR },
  http: { port: 0 },
});
const notifier = await startNotifier(config, {
  groupId: env.GROUP_ID,
  notify: {
    receivers: [{ name: 'hook', type: 'webhook', url: env.HOOK_URL! }],
    routes: [{ match: [], receivers: ['hook'], groupBy: ['id'], groupWaitMs: 0, groupIntervalMs: 200, repeatIntervalMs: 3_600_000 }],
    inhibits: [],
  },
});
process.stdout.write(`READY ${notifier.url}\n`);
process.on('SIGTERM', () => void notifier.stop().then(() => process.exit(0)));
