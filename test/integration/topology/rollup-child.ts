/**
 * Child process of the crash test and `npm run chaos -- rollup|instances`: an engine running the 1m and
 * (CHILD_HOURLY=1) 1h rollup topologies on KAFKA_BROKERS / SCHEMA_REGISTRY_URL, state in VIGIL_STATE_DIR,
 * topics and consumer groups (through kafka.clientId) prefixed with CHILD_PREFIX. Prints `ready` once started and `processed N`
 * whenever its count grows; SIGTERM = clean stop.
 */
import { loadConfig } from '../../../src/config/config.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';

const base = loadConfig({ env: process.env });
const prefix = process.env.CHILD_PREFIX ?? '';
// Consumer groups and changelogs are named after the client id: `<prefix>vigil-rollup-1m`.
const config = {
  ...base,
  kafka: { ...base.kafka, clientId: `${prefix}vigil`, partitions: Number(process.env.CHILD_PARTITIONS ?? base.kafka.partitions) },
  topics: { ...base.topics, metrics: `${prefix}metrics`, rollup1m: `${prefix}metrics.rollup.1m`, rollup1h: `${prefix}metrics.rollup.1h`, metricsLate: `${prefix}metrics.late`, metricsDlq: `${prefix}metrics.dlq` },
};
const sessionTimeout = Number(process.env.CHILD_SESSION_TIMEOUT ?? 6000);
const hourly = process.env.CHILD_HOURLY === '1';
const engine = new Engine({
  config,
  modules: [rollupModule({ hourly, graceMs: Number(process.env.CHILD_GRACE_MS ?? 10_000) })],
  embedded: process.env.CHILD_EMBEDDED === '1',
  httpPort: null,
  commitIntervalMs: Number(process.env.CHILD_COMMIT_MS ?? 50),
  consumer: { sessionTimeout, heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 6)), rebalanceTimeout: sessionTimeout },
});
await engine.start();
process.stdout.write('ready\n');
let last = 0;
const timer = setInterval(() => {
  const n = (engine.runtime(`${prefix}vigil-rollup-1m`)?.processed ?? 0) + (engine.runtime(`${prefix}vigil-rollup-1h`)?.processed ?? 0);
  if (n !== last) {
    last = n;
    process.stdout.write(`processed ${n}\n`);
  }
}, 20);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void engine.stop().then(() => {
    process.stdout.write('stopped\n');
    process.exit(0);
  });
});
