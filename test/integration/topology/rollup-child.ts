/**
 * Child process of the crash test and `npm run chaos -- rollup`: the engine with the 1m rollup topology
 * on KAFKA_BROKERS / SCHEMA_REGISTRY_URL, state in VIGIL_STATE_DIR. Prints `ready` once started and
 * `processed N` whenever its count grows; SIGTERM = clean stop.
 */
import { loadConfig } from '../../../src/config/config.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';

const config = loadConfig({ env: process.env });
const sessionTimeout = Number(process.env.CHILD_SESSION_TIMEOUT ?? 6000);
const engine = new Engine({
  config,
  modules: [rollupModule({ hourly: false, graceMs: Number(process.env.CHILD_GRACE_MS ?? 10_000) })],
  embedded: true,
  httpPort: null,
  commitIntervalMs: Number(process.env.CHILD_COMMIT_MS ?? 50),
  consumer: { sessionTimeout, heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 6)), rebalanceTimeout: sessionTimeout },
});
await engine.start();
process.stdout.write('ready\n');
let last = 0;
const timer = setInterval(() => {
  const n = engine.runtime(`${config.kafka.clientId}-rollup-1m`)?.processed ?? 0;
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
