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
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { startEmbeddedKafka } from '../../../src/dev/embedded-kafka.js';

const run = promisify(execFile);
const LINES = /^KAFKA_BROKERS=(\S+)\nSCHEMA_REGISTRY_URL=(\S+)\n$/;

/** Pids of the JVMs whose command line names `dir` (the broker's properties file lives in its data dir). */
async function brokerPids(dir: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', `${dir}/node-`]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil stack on its real Kafka broker', () => {
  let child: Child | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = undefined;
  });

  it('keeps topics and records in kafka.dataDir across restarts, and its broker never outlives it, even after SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-stack-real-'));
    const dataDir = join(dir, 'kafka');
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `kafka:\n  dataDir: ${dataDir}\n  clientId: stack-test\ntopics:\n  metrics: stack-test.metrics\n`);
    const env = { VIGIL_CONFIG: config, VIGIL_LOG_LEVEL: 'warn' };
    try {
      child = spawnVigil(['stack'], env);
      const [, brokers] = await child.waitFor(LINES, 120_000);
      const producer = createKafka(brokers!, 'stack-test').producer();
      await producer.connect();
      await producer.send({ topic: 'stack-test.metrics', acks: -1, messages: [{ key: 'k', value: 'kept' }] });
      await producer.disconnect();
      expect(await brokerPids(dataDir)).toHaveLength(1);
      expect(await child.stop('SIGINT', 60_000)).toBe(0);
      expect(await brokerPids(dataDir)).toEqual([]);

      child = spawnVigil(['stack'], env);
      const [, again] = await child.waitFor(LINES, 120_000);
      expect(again).toBe(brokers); // the same ports, so clients keep their KAFKA_BROKERS
      const { stdout } = await run('kcat', ['-C', '-b', again!, '-t', 'stack-test.metrics', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
      expect(stdout).toBe('k=kept\n');

      // kill -9 of the parent: the launcher sees its stdin close and the broker shuts down by itself.
      expect(await brokerPids(dataDir)).toHaveLength(1);
      expect(await child.stop('SIGKILL')).toBe('SIGKILL');
      await until(async () => (await brokerPids(dataDir)).length === 0, 30_000, 'the broker JVM to exit after its parent was killed');
    } finally {
      for (const pid of await brokerPids(dataDir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vigil stack on the mock', () => {
  let child: Child | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = undefined;
  });

  it('prints exactly the two variables, serves both to other processes, and exits 0 on SIGINT', async () => {
    child = spawnVigil(['stack', '--embedded-kafka', 'mock', '--partitions', '2', '--broker-count', '2'], { VIGIL_LOG_LEVEL: 'info' });
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
