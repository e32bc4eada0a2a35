/**
 * Test fixture: an embedded Kafka in its own process (run with tsx), to test clients in another process.
 * Prints `BOOTSTRAP=<servers>` and `INCARNATION=<id>` on stdout, then stops cleanly on SIGTERM/SIGINT.
 */
import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.js';

const kafka = await startEmbeddedKafka({ brokers: Number(process.env.BROKERS ?? 1) });
process.stdout.write(`BOOTSTRAP=${kafka.bootstrapServers}\nINCARNATION=${kafka.incarnation}\n`);
const keepAlive = setInterval(() => {}, 1 << 30);
const stop = async () => {
  clearInterval(keepAlive);
  await kafka.stop();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
