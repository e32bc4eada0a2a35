import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/cli/user-error.js';
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

  it('prints exactly the two variables, serves both to other processes, and exits 0 on SIGINT', async () => {
    child = spawnVigil(['stack', '--partitions', '2', '--broker-count', '2'], { VIGIL_LOG_LEVEL: 'info' });
    const [, brokers, registryUrl] = await child.waitFor(LINES, 60_000);
    expect(child.stdout()).toMatch(LINES);
    expect(brokers!.split(',')).toHaveLength(2);

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

    // Faults driven from this process through the stack's control endpoint.
    const control = (await connectEmbeddedControl(brokers!))!;
    await control.brokerDown(2);
    await control.brokerUp(2);
    await control.setBrokerRtt(1, 0);
    await expect(control.brokerDown(3)).rejects.toThrow(EmbeddedControlError);
    await expect(control.brokerDown(3)).rejects.toThrow(/no broker 3: brokers are 1, 2/);

    expect(await child.stop('SIGINT')).toBe(0);
    expect(child.stderr()).toContain('"stack ready"');
    expect(child.stderr()).toContain('SIGINT, stopping');
    expect(child.stderr()).toContain('"stack stopped"');
  });

  it('prints the configured endpoints back and starts nothing when both are set', async () => {
    const outer = await startEmbeddedKafka();
    try {
      child = spawnVigil(['stack'], { KAFKA_BROKERS: outer.bootstrapServers, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:2' });
      const [, brokers, registryUrl] = await child.waitFor(LINES, 60_000);
      expect([brokers, registryUrl]).toEqual([outer.bootstrapServers, 'http://127.0.0.1:2']);
      expect(await child.stop('SIGTERM')).toBe(0);
      expect(child.stderr()).toContain('SIGTERM, stopping');
      // Vigil's topics were made on that cluster, which outlives the command.
      expect(await ensureTopics(outer.bootstrapServers, [{ name: 'metrics', partitions: 4 }])).toEqual([
        { name: 'metrics', partitions: 4, created: false },
      ]);
    } finally {
      await outer.stop();
    }
  });
});

// Error paths in-process (spawning the CLI costs seconds each): the UserError is what main() prints with exit 1.
describe('vigil stack errors', () => {
  const run = async (args: string[]) => {
    const { buildProgram } = await import('../../../src/cli/main.js');
    return buildProgram().parseAsync(['node', 'vigil', ...args]);
  };

  it('rejects a bad flag value', async () => {
    await expect(run(['stack', '--partitions', 'zero'])).rejects.toThrow(
      new UserError('--partitions must be an integer from 1 to 10000, got "zero"'),
    );
    await expect(run(['stack', '--broker-count', '17'])).rejects.toThrow(/--broker-count must be an integer from 1 to 16/);
  });

  it('turns a bad configured broker address into a user error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-stack-'));
    try {
      const file = join(dir, 'vigil.yaml');
      writeFileSync(file, 'kafka:\n  brokers: no-port\n');
      const listeners = process.listenerCount('SIGINT');
      const error = await run(['-c', file, 'stack']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toBe('bad Kafka broker address "no-port": expected host:port');
      expect(process.listenerCount('SIGINT')).toBe(listeners); // its signal handlers are gone
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
