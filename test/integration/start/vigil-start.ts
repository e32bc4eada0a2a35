/**
 * Runs `vigil start` from the sources (through tsx) as a child process in a directory of its own
 * (its ./data and ./rules live there), and reads what it leaves behind: the HTTP API and the .eml
 * files of ./data/outbox. Used by the start/restart test and the browser tests.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { simpleParser } from 'mailparser';
import { repoRoot } from '../../support/child-process.js';

const TSX = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const CLI = join(repoRoot, 'test/support/vigil-cli.ts');

/** A temporary directory holding a copy of the repository's rules/ (tests, fleet and notify rules). */
export function startDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  cpSync(join(repoRoot, 'rules'), join(dir, 'rules'), { recursive: true });
  return dir;
}

export interface RunningVigil {
  readonly proc: ChildProcessWithoutNullStreams;
  /** http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** GET `path` as JSON (throws on a non-2xx answer). */
  get<T = any>(path: string): Promise<T>;
  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | string>;
}

/** This process's environment without what would point the child elsewhere than `dir` and its embedded stack. */
function isolatedEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  for (const k of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'VIGIL_CONFIG', 'VIGIL_STATE_DIR', 'VIGIL_ARCHIVE', 'VIGIL_S3_ENDPOINT', 'VIGIL_SMTP_URL', 'PD_INFRA_KEY']) delete env[k];
  return env;
}

/**
 * Starts `vigil start ARGS` in `dir` on any free HTTP port (VIGIL_HTTP_PORT=0) and resolves once it
 * printed where its UI is; rejects when it exits first or after `timeoutMs`.
 */
export async function startVigil(dir: string, args: string[] = [], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<RunningVigil> {
  const proc = spawn(process.execPath, ['--import', TSX, CLI, 'start', '--status-interval', '5', ...args], {
    cwd: dir,
    env: { ...isolatedEnv(), VIGIL_HTTP_PORT: '0', VIGIL_LOG_LEVEL: 'warn', ...env },
    stdio: 'pipe',
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const stop = async (ms = 30_000) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const re = /vigil start: UI and API at (http:\/\/\S+?)\/? /;
    const check = () => {
      const m = re.exec(err);
      if (m) done(() => resolve(m[1]!));
    };
    const onExit = () => done(() => reject(new Error(`vigil start exited before serving its UI; stderr:\n${err.slice(-3000)}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`vigil start did not serve its UI within ${timeoutMs} ms; stderr:\n${err.slice(-3000)}`))), timeoutMs);
    const done = (f: () => void) => {
      clearTimeout(timer);
      proc.stderr.off('data', check);
      proc.off('exit', onExit);
      f();
    };
    proc.stderr.on('data', check);
    proc.once('exit', onExit);
  }).catch(async (e: Error) => {
    await stop(5_000);
    throw e;
  });
  return {
    proc,
    url,
    stdout: () => out,
    stderr: () => err,
    async get(path) {
      const res = await fetch(url + path, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    stop,
  };
}

/** One alert entry of a notification e-mail. */
export interface MailedAlert {
  file: string;
  subject: string;
  status: 'FIRING' | 'RESOLVED';
  alertname: string;
  fingerprint: string;
}

/**
 * The alert entries of every notification in `dir/data/outbox` (the e-mail receiver's plain text:
 * `- [FIRING] NAME {labels}` followed by indented fields, one of them `fingerprint: FP`).
 */
export async function mailedAlerts(dir: string): Promise<MailedAlert[]> {
  const outbox = join(dir, 'data', 'outbox');
  if (!existsSync(outbox)) return [];
  const out: MailedAlert[] = [];
  for (const file of readdirSync(outbox).filter((f) => f.endsWith('.eml')).sort()) {
    const mail = await simpleParser(readFileSync(join(outbox, file)));
    for (const block of (mail.text ?? '').split(/\n(?=- \[)/)) {
      const head = /^- \[(FIRING|RESOLVED)\] (\S+)/.exec(block);
      const fp = /^\s+fingerprint: (\S+)/m.exec(block);
      if (head && fp) out.push({ file, subject: mail.subject ?? '', status: head[1] as 'FIRING' | 'RESOLVED', alertname: head[2]!, fingerprint: fp[1]! });
    }
  }
  return out;
}

/** Polls `probe` every `everyMs` until it returns something other than undefined (or times out). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 1_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The keys of every record of `topic` (read with kcat up to the current end). */
export function topicKeys(brokers: string, topic: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\n'], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat failed: ${err.message}\n${stderr}`));
      else resolve(stdout.split('\n').filter(Boolean));
    });
  });
}
