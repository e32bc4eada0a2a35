import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { namespaceEnv, testConfig } from '../../support/stack.js';

const run = promisify(execFile);
const LINES = /KAFKA_BROKERS=(\S+)\nSCHEMA_REGISTRY_URL=(\S+)\n/;

async function stderrMatch(child: Child, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(child.stderr());
    if (m) return m;
    if (Date.now() > until) throw new Error(`no ${re} on stderr:\n${child.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil start --no-engine (stack + simulated fleet)', () => {
  let child: Child | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = undefined;
  });

  it('prints both addresses, publishes in real time with a live status line, and stops cleanly on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-start-'));
    const targets = join(dir, 'targets.json');
    const config = testConfig();
    child = spawnVigil(['start', '--no-engine', '--no-pull', '--backfill', '0', '--interval', '1s', '--status-interval', '1', '--expose', '--file-sd-out', targets], { ...namespaceEnv(dir, config), VIGIL_LOG_LEVEL: 'warn' });
    const [, brokers, registryUrl] = await child.waitFor(LINES, 60_000);
    expect((await fetch(`${registryUrl}/subjects`)).status).toBe(200);
    await stderrMatch(child, /vigil start: fleet: \+\d+s \| event \S+ \| [\d,]+ samples\/s .*records [1-9][\d,]* /);

    // --expose: the same hosts as Prometheus exporters, listed for a collector.
    await stderrMatch(child, /file_sd targets in /);
    const groups = JSON.parse(readFileSync(targets, 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
    expect(groups).toHaveLength(10);
    const page = await (await fetch(`http://${groups[0]!.targets[0]}${groups[0]!.labels.__metrics_path__}`)).text();
    expect(page).toContain('# TYPE cpu_load gauge');

    const { stdout } = await run('kcat', ['-C', '-b', brokers!, '-t', config.topics.metrics, '-o', 'beginning', '-e', '-q', '-f', '%k\n']);
    const keys = new Set(stdout.trim().split('\n'));
    expect(keys.size).toBe(10);
    expect(keys).toContain('env=prod,host=p1-h1,pool=p1');

    expect(await child.stop('SIGINT')).toBe(0);
    expect(child.stderr()).toMatch(/stopping: SIGINT\n(.|\n)*vigil start: stopped\n$/);
  });

  it('refuses bad fleet options before starting anything', async () => {
    child = spawnVigil(['start', '--no-engine', '--no-pull', '--faults', 'cpu:nohost@1s+1m'], namespaceEnv(mkdtempSync(join(tmpdir(), 'vigil-start-'))));
    const { proc } = child;
    const code = proc.exitCode ?? (await new Promise((resolve) => proc.once('exit', resolve)));
    expect(code).toBe(1);
    expect(child.stderr()).toContain('no host named "nohost"');
    expect(child.stdout()).toBe('');
  });
});
