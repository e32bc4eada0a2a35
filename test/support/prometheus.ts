/**
 * The real Prometheus, node_exporter and promtool (Debian packages `prometheus` and
 * `prometheus-node-exporter`, installed by scripts/setup.sh) for compatibility tests: each on a
 * free loopback port, Prometheus with a temporary TSDB; stopped and cleaned up by the caller.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnChild, type Child } from './child-process.js';

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface RunningServer {
  url: string;
  address: string;
  child: Child;
  stop(): Promise<void>;
}

/** Polls `url` until it answers 200. */
async function ready(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (child.proc.exitCode !== null) throw new Error(`${url}: process exited: ${child.stderr().slice(-2000)}`);
    if (Date.now() > end) throw new Error(`${url} not ready after ${timeoutMs} ms: ${child.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startNodeExporter(): Promise<RunningServer> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const child = spawnChild('prometheus-node-exporter', [`--web.listen-address=${address}`]);
  await ready(`http://${address}/metrics`, child);
  return { url: `http://${address}`, address, child, stop: async () => void (await child.stop('SIGTERM')) };
}

/** Starts Prometheus with `config(ownAddress)` as its YAML, a temporary TSDB and a free port. */
export async function startPrometheus(config: (ownAddress: string) => string, extraArgs: string[] = []): Promise<RunningServer & { dir: string }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config(address));
  const child = spawnChild('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${address}`, ...extraArgs]);
  await ready(`http://${address}/-/ready`, child, 60_000);
  return {
    url: `http://${address}`,
    address,
    dir,
    child,
    async stop() {
      await child.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs promtool with `args`; resolves with its stdout (rejects with stderr on failure). */
export async function promtool(args: string[]): Promise<string> {
  const { stdout } = await run('promtool', args, { maxBuffer: 64 << 20 });
  return stdout;
}
