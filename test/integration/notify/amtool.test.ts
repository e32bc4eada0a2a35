/**
 * The real `amtool` (Debian package prometheus-alertmanager) against Vigil's notifier: Alertmanager's
 * API v2 over HTTPS with a client certificate and an API token from amtool's --http.config.file.
 * Two notifier instances share the test run's Kafka broker (this file's own topics): a silence made with amtool on one is on the
 * `silences` topic and so on the other, where `vigil silence list` and amtool see it too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import type { VigilConfig } from '../../../src/config/config.js';
import { createKafka } from '../../../src/kafka/client.js';
import { alertEventSerde } from '../../../src/model/serde.js';
import { startNotifier, type RunningNotifier } from '../../../src/sinks/notify/notifier-service.js';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import { makeTestCerts, type TestCerts } from '../../http/test-certs.js';
import { event } from '../../sinks/notify/fixtures.js';
import { useStack } from '../../support/stack.js';
import { until } from '../../support/until.js';

const stack = useStack({ partitions: 1 });
const ADMIN = 'amtool-admin-token';
const READER = 'amtool-read-token';

const notifyConfig: NotifyConfig = {
  receivers: [
    { name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/unused' },
    { name: 'pager', type: 'pagerduty', routingKey: 'R0123456789abcdef0123456789abcde' },
  ],
  routes: [
    { match: [{ name: 'severity', op: '=', value: 'page' }], receivers: ['pager', 'ops'], groupBy: ['alertname'], groupWaitMs: 3_600_000 },
    { match: [], receivers: ['ops'], groupBy: ['alertname'], groupWaitMs: 3_600_000 },
  ],
  inhibits: [],
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// amtool compares its version with the server's and warns when they differ: Vigil reports its own.
const VERSION_WARNING = /^Warning: amtool version \(\S+\) and alertmanager version \(\S+\) are different\.\n/gm;

/** Runs amtool; `stderr` is without the version warning. */
function amtool(url: string, httpConfig: string | undefined, ...args: string[]): Promise<Run> {
  const flags = [`--alertmanager.url=${url}`, ...(httpConfig ? [`--http.config.file=${httpConfig}`] : [])];
  return new Promise((resolve) => {
    execFile('amtool', [...flags, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.replace(VERSION_WARNING, '') });
    });
  });
}

describe('amtool against the notifier (Alertmanager API v2)', () => {
  let dir: string;
  let certs: TestCerts;
  let secure: RunningNotifier;
  let plain: RunningNotifier;
  let producer: Producer;
  let adminConfig: string;
  let readerConfig: string;
  let noTokenConfig: string;
  let plainConfig: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-amtool-'));
    certs = makeTestCerts();
    const tls = { ca_file: certs.caFile, cert_file: certs.clientCertFile, key_file: certs.clientKeyFile };
    const write = async (name: string, doc: object) => {
      const path = join(dir, name);
      await writeFile(path, JSON.stringify(doc));
      return path;
    };
    adminConfig = await write('admin.yml', { authorization: { credentials: ADMIN }, tls_config: tls });
    readerConfig = await write('reader.yml', { authorization: { credentials: READER }, tls_config: tls });
    noTokenConfig = await write('none.yml', { tls_config: tls });
    plainConfig = await write('plain.yml', { authorization: { type: 'Bearer', credentials: ADMIN } });
    const base = (name: string, http: VigilConfig['http']): VigilConfig => ({
      ...stack.config,
      state: { dir: join(dir, name) },
      http,
      api: { tokens: [ADMIN], readTokens: [READER], protectReads: false, openPaths: ['/metrics', '/healthz'] },
      notify: { ...stack.config.notify, outbox: join(dir, `${name}-outbox`) },
    });
    const tlsFiles = { certFile: certs.certFile, keyFile: certs.keyFile, clientCAFile: certs.caFile };
    [secure, plain] = await Promise.all([
      startNotifier(base('secure', { port: 0, tls: tlsFiles }), { groupId: `${stack.config.kafka.clientId}-secure`, notify: notifyConfig }),
      startNotifier(base('plain', { port: 0 }), { groupId: `${stack.config.kafka.clientId}-plain`, notify: notifyConfig }),
    ]);
    const kafka = createKafka(stack.brokers, 'amtool-test');
    producer = kafka.producer();
    await producer.connect();
    const serde = alertEventSerde({ registry: stack.registryUrl });
    const now = Date.now();
    const events = [
      event({ alertname: 'NodeDown', host: 'web1', severity: 'page' }, 'FIRING', { fingerprint: 'aaaa000000000001', at: now - 60_000 }),
      event({ alertname: 'DiskFull', host: 'web2' }, 'FIRING', { fingerprint: 'aaaa000000000002', at: now - 60_000 }),
      event({ alertname: 'DiskFull', host: 'db1' }, 'FIRING', { fingerprint: 'aaaa000000000003', at: now - 60_000 }),
    ];
    const topic = stack.config.topics.alerts;
    await producer.send({ topic, messages: await Promise.all(events.map(async (e) => ({ key: e.fingerprint, value: await serde.encode(topic, e) }))) });
    await until(() => secure.core.currentAlerts(Date.now()).length === 3 && plain.core.currentAlerts(Date.now()).length === 3, 30_000, 'both notifiers to hold the 3 alerts');
  }, 90_000);

  afterAll(async () => {
    await producer?.disconnect();
    await secure?.stop();
    await plain?.stop();
    certs?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with a client certificate and an API token (amtool --http.config.file)', () => {
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('amtool alert query lists the firing alerts; filters by matcher and receiver', async () => {
    const all = await amtool(secure.url, adminConfig, 'alert', 'query', '-o', 'json');
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    const alerts = JSON.parse(all.stdout) as { fingerprint: string; labels: Record<string, string>; receivers: { name: string }[]; status: { state: string } }[];
    expect(alerts.map((a) => a.fingerprint)).toEqual(['aaaa000000000001', 'aaaa000000000002', 'aaaa000000000003']);
    expect(alerts[0]).toMatchObject({ labels: { alertname: 'NodeDown', host: 'web1' }, receivers: [{ name: 'ops' }, { name: 'pager' }], status: { state: 'active' } });
    const disk = JSON.parse((await amtool(secure.url, adminConfig, 'alert', 'query', 'DiskFull', 'host=~"web.*"', '-o', 'json')).stdout);
    expect(disk.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(['aaaa000000000002']);
    const paged = JSON.parse((await amtool(secure.url, adminConfig, 'alert', 'query', '--receiver=pag.*', '-o', 'json')).stdout);
    expect(paged.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(['aaaa000000000001']);
  });

  it('amtool silence add | query | expire, shared with the other notifier instance and vigil silence', async () => {
    const added = await amtool(secure.url, adminConfig, 'silence', 'add', 'alertname=DiskFull', 'host=~"web.*"', '--comment=disk swap', '--author=alice', '--duration=2h');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const query = await amtool(secure.url, adminConfig, 'silence', 'query', '-o', 'json');
    const silences = JSON.parse(query.stdout) as { id: string; createdBy: string; comment: string; status: { state: string }; matchers: object[] }[];
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({
      id,
      createdBy: 'alice',
      comment: 'disk swap',
      status: { state: 'active' },
      matchers: [
        { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
        { name: 'host', value: 'web.*', isRegex: true, isEqual: true },
      ],
    });
    expect((await amtool(secure.url, adminConfig, 'silence', 'query', '-q', 'host=~"web.*"')).stdout.trim()).toBe(id);
    expect((await amtool(secure.url, adminConfig, 'silence', 'query', '-q', 'host="web.*"')).stdout.trim()).toBe('');

    // The silenced alert leaves amtool's default alert list (active, not silenced) and shows with --silenced.
    const active = JSON.parse((await amtool(secure.url, adminConfig, 'alert', 'query', '-o', 'json')).stdout);
    expect(active.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(['aaaa000000000001', 'aaaa000000000003']);
    const silenced = JSON.parse((await amtool(secure.url, adminConfig, 'alert', 'query', '--silenced', '-o', 'json')).stdout);
    expect(silenced).toMatchObject([{ fingerprint: 'aaaa000000000002', status: { state: 'suppressed', silencedBy: [id] } }]);

    // Through the silences topic the other instance has it too: amtool over plain HTTP, and vigil silence list.
    await until(() => plain.core.silences.get(id) !== undefined, 20_000, 'the silence on the second notifier');
    expect((await amtool(plain.url, plainConfig, 'silence', 'query', '-q')).stdout.trim()).toBe(id);
    expect(await vigil(plain.url, 'silence', 'list', '--token', ADMIN)).toMatch(new RegExp(`${id}\\s+active.*alice.*alertname="DiskFull",host=~"web\\.\\*".*disk swap`));

    const expired = await amtool(secure.url, adminConfig, 'silence', 'expire', id);
    expect(expired.code).toBe(0);
    const after = JSON.parse((await amtool(secure.url, adminConfig, 'silence', 'query', '--expired', '-o', 'json')).stdout);
    expect(after).toMatchObject([{ id, status: { state: 'expired' } }]);
    await until(() => plain.core.silences.get(id)?.endsAt !== undefined && plain.core.silences.get(id)!.endsAt <= Date.now(), 20_000, 'the expiry on the second notifier');
  });

  it('amtool silence update extends a silence in place', async () => {
    const id = (await amtool(secure.url, adminConfig, 'silence', 'add', 'alertname=NodeDown', '--comment=reboot', '--author=bob', '--duration=1h')).stdout.trim();
    const updated = await amtool(secure.url, adminConfig, 'silence', 'update', id, '--duration=3h', '--comment=longer reboot');
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
    const s = secure.core.silences.get(id)!;
    expect(s.comment).toBe('longer reboot');
    expect(s.endsAt - s.startsAt).toBeGreaterThan(2.9 * 3_600_000);
    await amtool(secure.url, adminConfig, 'silence', 'expire', id);
  });

  it('amtool config routes shows the routing tree from /api/v2/status', async () => {
    const routes = await amtool(secure.url, adminConfig, 'config', 'routes');
    expect(routes.stderr).toBe('');
    expect(routes.code).toBe(0);
    expect(routes.stdout).toContain('vigil-unrouted');
    expect(routes.stdout).toMatch(/\{severity="page"\}.*pager/);
    expect(routes.stdout).toMatch(/\{severity="page"\}.*ops/);
    const show = await amtool(secure.url, adminConfig, 'config', 'show');
    expect(parseYaml(show.stdout).receivers.map((r: { name: string }) => r.name)).toEqual(['vigil-unrouted', 'ops', 'pager']);
  });

  it('refuses amtool without a token (401) and with a read-only token (403); a read-only token may read', async () => {
    const none = await amtool(secure.url, noTokenConfig, 'silence', 'add', 'alertname=X', '--comment=c', '--duration=1h');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/401/);
    const reader = await amtool(secure.url, readerConfig, 'silence', 'add', 'alertname=X', '--comment=c', '--duration=1h');
    expect(reader.code).not.toBe(0);
    expect(reader.stderr).toMatch(/403/);
    expect((await amtool(secure.url, readerConfig, 'silence', 'query')).code).toBe(0);
    // Without the client certificate the TLS handshake itself fails.
    const noCert = await amtool(secure.url, undefined, 'silence', 'query');
    expect(noCert.code).not.toBe(0);
    expect([...secure.core.silences.list()].every((s) => s.matchers[0]!.value !== 'X')).toBe(true);
  });

  it('vigil silence add without --token names the missing token; with it the silence is made', async () => {
    await expect(vigil(plain.url, 'silence', 'add', 'alertname=X', '--comment', 'c', '--author', 'carol')).rejects.toThrow(/notifier answered 401: this request changes state and needs an API token/);
    const id = (await vigil(plain.url, 'silence', 'add', 'alertname=X', '--comment', 'c', '--author', 'carol', '--token', ADMIN)).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await vigil(plain.url, 'silence', 'expire', id, '--token', ADMIN);
  });
});

async function vigil(url: string, ...args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'vigil', ...args, '--url', url]);
  } finally {
    spy.mockRestore();
  }
  return out;
}
