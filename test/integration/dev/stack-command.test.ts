import { afterEach, describe, expect, it } from 'vitest';
import {
  clusterIncarnation,
  connectEmbeddedControl,
  createKafka,
  EmbeddedControlError,
  ensureTopics,
} from '../../../src/kafka/client.js';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { startEmbeddedKafka } from '../../../src/dev/embedded-kafka.js';

const LINES = /^KAFKA_BROKERS=(\S+)\nSCHEMA_REGISTRY_URL=(\S+)\n$/;

describe('vigil stack', () => {
  let child: Child | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = undefined;
  });

  it('prints exactly the two variables, serves both, and exits 0 on SIGTERM', async () => {
    child = spawnVigil(['stack', '--partitions', '2'], { VIGIL_LOG_LEVEL: 'info' });
    const [, brokers, registryUrl] = await child.waitFor(LINES, 60_000);
    expect(child.stdout()).toMatch(LINES);

    // Another process (this one) creates topics with partition counts and sees the topics of the stack.
    const ensured = await ensureTopics(brokers!, [
      { name: 'metrics', partitions: 2 },
      { name: 'from-elsewhere', partitions: 5 },
    ]);
    expect(ensured).toEqual([
      { name: 'metrics', partitions: 2, created: false },
      { name: 'from-elsewhere', partitions: 5, created: true },
    ]);
    expect(await clusterIncarnation(createKafka(brokers!, 'test'))).toMatch(/^mockCluster\w+\/[0-9a-f]{16}$/);
    expect((await fetch(`${registryUrl}/subjects`)).status).toBe(200);

    expect(await child.stop('SIGTERM')).toBe(0);
    expect(child.stderr()).toContain('"stack ready"');
    expect(child.stderr()).toContain('SIGTERM, stopping');
    expect(child.stderr()).toContain('"stack stopped"');
  });

  it('runs N brokers whose faults another process can drive, and stops cleanly on SIGINT', async () => {
    child = spawnVigil(['stack', '--broker-count', '2']);
    const [, brokers] = await child.waitFor(LINES, 60_000);
    expect(brokers!.split(',')).toHaveLength(2);
    const control = (await connectEmbeddedControl(brokers!))!;
    await control.brokerDown(2);
    await control.brokerUp(2);
    await control.setBrokerRtt(1, 0);
    await expect(control.brokerDown(3)).rejects.toThrow(EmbeddedControlError);
    await expect(control.brokerDown(3)).rejects.toThrow(/no broker 3: brokers are 1, 2/);
    expect(await child.stop('SIGINT')).toBe(0);
  });

  it('prints the configured endpoints back and starts nothing when both are set', async () => {
    const outer = await startEmbeddedKafka();
    try {
      child = spawnVigil(['stack'], { KAFKA_BROKERS: outer.bootstrapServers, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:2' });
      const [, brokers, registryUrl] = await child.waitFor(LINES, 60_000);
      expect([brokers, registryUrl]).toEqual([outer.bootstrapServers, 'http://127.0.0.1:2']);
      expect(await child.stop('SIGTERM')).toBe(0);
      // Vigil's topics were made on that cluster, which outlives the command.
      expect(await ensureTopics(outer.bootstrapServers, [{ name: 'metrics', partitions: 4 }])).toEqual([
        { name: 'metrics', partitions: 4, created: false },
      ]);
    } finally {
      await outer.stop();
    }
  });

  it('fails with exit 1 and a message on a bad KAFKA_BROKERS', async () => {
    child = spawnVigil(['stack'], { KAFKA_BROKERS: 'no-port' });
    const code = await new Promise<number | null>((resolve) => child!.proc.once('exit', resolve));
    expect(code).toBe(1);
    expect(child.stderr()).toContain('vigil: bad Kafka broker address "no-port": expected host:port');
    expect(child.stdout()).toBe('');
  });

  it('rejects a bad flag value with exit 1', async () => {
    child = spawnVigil(['stack', '--partitions', 'zero']);
    const code = await new Promise<number | null>((resolve) => child!.proc.once('exit', resolve));
    expect(code).toBe(1);
    expect(child.stderr()).toContain('--partitions must be an integer from 1 to 10000, got "zero"');
  });
});
