/**
 * The notifier against real servers: embedded Kafka + schema registry, an SMTP server (parsed with
 * mailparser), and node http servers standing in for PagerDuty and webhook consumers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { createKafka, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { alertEventSerde } from '../../../src/model/serde.js';
import type { AlertEvent } from '../../../src/model/types.js';
import { startNotifier, type RunningNotifier } from '../../../src/sinks/notify/notifier-service.js';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import { stackEnv, useStack } from '../../support/stack.js';
import { spawnVigil } from '../../support/child-process.js';
import { writeFile } from 'node:fs/promises';
import { event } from '../../sinks/notify/fixtures.js';
import { startHttpRecorder, startSmtpRecorder, type HttpRecorder, type SmtpRecorder } from './servers.js';

const stack = useStack({ partitions: 2 });

const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const notifyConfig = (http: string): NotifyConfig => ({
  receivers: [
    { name: 'pd', type: 'pagerduty', routingKey: { env: 'PD_KEY' } },
    { name: 'hook', type: 'webhook', url: `${http}/hook` },
    { name: 'flaky', type: 'webhook', url: `${http}/flaky` },
    { name: 'broken', type: 'webhook', url: `${http}/broken` },
    { name: 'mail', type: 'email', to: ['ops@example.com', 'sre@example.com'], subject: '[{{ status | upper }}] {{ alertname }} on {{ commonLabels.host }}' },
  ],
  routes: [
    { match: [{ name: 'alertname', op: '=', value: 'Page' }], receivers: ['pd', 'hook'], groupBy: ['alertname'], groupWaitMs: 0, groupIntervalMs: 300 },
    { match: [{ name: 'alertname', op: '=', value: 'Mail' }], receivers: ['mail'], groupBy: ['alertname'], groupWaitMs: 1500 },
    { match: [{ name: 'alertname', op: '=', value: 'Flaky' }], receivers: ['flaky'], groupWaitMs: 0 },
    { match: [{ name: 'alertname', op: '=', value: 'Broken' }], receivers: ['broken'], groupWaitMs: 0 },
  ],
  inhibits: [],
});

function alertEvent(alertname: string, fingerprint: string, transition: AlertEvent['transition'] = 'FIRING', sequence = 1, extra: Record<string, string> = {}): AlertEvent {
  const now = Date.now();
  return {
    ...event({ alertname, host: 'web<1>', pool: 'a', severity: 'critical', ...extra }, transition, { at: now, sequence, fingerprint }),
    annotations: { summary: `${alertname} <b>bold</b> & "quoted"` },
  };
}

describe('notifier with real servers', () => {
  let http: HttpRecorder;
  let smtp: SmtpRecorder;
  let notifier: RunningNotifier;
  let producer: Producer;
  let dlqConsumer: Consumer;
  const dlq: KafkaMessage[] = [];
  let dir: string;
  let serde: ReturnType<typeof alertEventSerde>;

  const produce = async (...events: AlertEvent[]) => {
    const messages = await Promise.all(events.map(async (e) => ({ key: e.fingerprint, value: await serde.encode(stack.config.topics.alerts, e) })));
    await producer.send({ topic: stack.config.topics.alerts, messages });
  };
  const waitFor = async (pred: () => boolean, what: string, timeoutMs = 20_000, poll?: () => Promise<void>) => {
    const start = Date.now();
    while ((await poll?.(), !pred())) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-notify-'));
    [http, smtp] = await Promise.all([startHttpRecorder(), startSmtpRecorder()]);
    const kafka = createKafka(stack.brokers, 'notify-test');
    producer = kafka.producer();
    dlqConsumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}`, ...embeddedConsumerDefaults });
    serde = alertEventSerde({ registry: stack.registryUrl });
    const config = {
      ...stack.config,
      state: { dir: join(dir, 'state') },
      http: { port: 0 },
      notify: { ...stack.config.notify, smtpUrl: smtp.url, pagerdutyUrl: `${http.url}/v2/enqueue`, outbox: join(dir, 'outbox'), externalUrl: 'http://vigil.example:9464' },
    };
    const [n] = await Promise.all([
      startNotifier(config, { groupId: `${stack.config.kafka.clientId}-notify-test`, notify: notifyConfig(http.url), env: { PD_KEY: ROUTING_KEY }, retry: { maxAttempts: 3, baseMs: 50, maxMs: 200 } }),
      producer.connect(),
      (async () => {
        await dlqConsumer.connect();
        await dlqConsumer.subscribe({ topic: stack.config.topics.alertsDlq, fromBeginning: true });
        await dlqConsumer.run({ eachMessage: async ({ message }) => void dlq.push(message) });
      })(),
    ]);
    notifier = n;
  });

  afterAll(async () => {
    await notifier?.stop();
    await dlqConsumer?.disconnect();
    await producer?.disconnect();
    await http?.close();
    await smtp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pages PagerDuty (Events v2) and posts the Alertmanager v4 webhook, field by field', async () => {
    await produce(alertEvent('Page', '0123456789abcdef'));
    await http.waitFor((r) => r.some((x) => x.path === '/v2/enqueue') && r.some((x) => x.path === '/hook'));
    const pd = http.requests.find((r) => r.path === '/v2/enqueue')!;
    expect(Object.keys(pd.body).sort()).toEqual(['client', 'client_url', 'dedup_key', 'event_action', 'payload', 'routing_key']);
    expect(pd.body).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: '0123456789abcdef', client: 'Vigil' });
    expect(Object.keys(pd.body.payload).sort()).toEqual(['class', 'custom_details', 'group', 'severity', 'source', 'summary', 'timestamp']);
    expect(pd.body.payload).toMatchObject({ summary: 'Page <b>bold</b> & "quoted"', source: 'web<1>', severity: 'critical', group: 'a', class: 'Page' });
    expect(new Date(pd.body.payload.timestamp).toISOString()).toBe(pd.body.payload.timestamp);

    const hook = http.requests.find((r) => r.path === '/hook')!;
    expect(hook.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(hook.body).sort()).toEqual(
      ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'],
    );
    expect(hook.body).toMatchObject({
      version: '4',
      groupKey: '{}/route1:{alertname="Page"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'hook',
      groupLabels: { alertname: 'Page' },
      commonLabels: { alertname: 'Page', host: 'web<1>', pool: 'a', severity: 'critical' },
      externalURL: 'http://vigil.example:9464',
    });
    expect(Object.keys(hook.body.alerts[0]).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
    expect(hook.body.alerts[0]).toMatchObject({ status: 'firing', fingerprint: '0123456789abcdef', endsAt: '0001-01-01T00:00:00Z' });

    await produce(alertEvent('Page', '0123456789abcdef', 'RESOLVED', 2));
    await http.waitFor((r) => r.filter((x) => x.path === '/hook').length === 2 && r.filter((x) => x.path === '/v2/enqueue').length === 2);
    const resolve = http.requests.filter((r) => r.path === '/v2/enqueue')[1]!;
    expect(resolve.body).toMatchObject({ event_action: 'resolve', dedup_key: '0123456789abcdef', routing_key: ROUTING_KEY });
    const hook2 = http.requests.filter((r) => r.path === '/hook')[1]!;
    expect(hook2.body.status).toBe('resolved');
    expect(hook2.headers['idempotency-key']).not.toBe(hook.headers['idempotency-key']);
  });

  it('emails one message per group over SMTP with escaped HTML and the templated subject', async () => {
    await produce(alertEvent('Mail', '1111111111111111'), alertEvent('Mail', '2222222222222222', 'FIRING', 1, { host: 'web<1>' }));
    await smtp.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    const mail = smtp.mails[0]!;
    expect(smtp.mails.length).toBe(1);
    expect(mail.subject).toBe('[FIRING] Mail on web<1>');
    expect(smtp.envelopes[0]!.to.sort()).toEqual(['ops@example.com', 'sre@example.com']);
    expect((mail.to as { text: string }).text).toBe('ops@example.com, sre@example.com');
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@vigil>$/);
    expect(mail.html).toContain('Mail &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
    expect(mail.html).not.toContain('<b>bold</b>');
    expect(mail.text).toContain('1111111111111111');
    expect(mail.text).toContain('2222222222222222');

    // a silence over these alerts: a notice when it is created, one when it expires, and the
    // still-firing alerts are notified again when it ends
    const made = await fetch(`${notifier.url}/api/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'Mail' }], endsAt: new Date(Date.now() + 600_000).toISOString(), createdBy: 'gina', comment: 'db <maintenance>' }),
    });
    const { silenceID } = (await made.json()) as { silenceID: string };
    await smtp.waitFor(2);
    expect(smtp.mails[1]!.subject).toBe('[SILENCE CREATED] alertname="Mail" by gina');
    expect(smtp.mails[1]!.html).toContain('db &lt;maintenance&gt;');
    await fetch(`${notifier.url}/api/v1/silences/${silenceID}`, { method: 'DELETE' });
    await smtp.waitFor(4);
    expect(smtp.mails.slice(2).map((m) => m.subject).sort()).toEqual(['[FIRING] Mail on web<1>', '[SILENCE EXPIRED] alertname="Mail" by gina']);
  });

  it('retries a receiver answering 500 until it succeeds', async () => {
    http.respond('/flaky', (attempt) => (attempt <= 2 ? 500 : 200));
    await produce(alertEvent('Flaky', '3333333333333333'));
    await http.waitFor((r) => r.some((x) => x.path === '/flaky'));
    await waitFor(() => notifier.core.historyOf('3333333333333333').some((h) => h.type === 'notification'), 'history');
    expect(notifier.core.historyOf('3333333333333333').find((h) => h.type === 'notification')).toMatchObject({ outcome: 'sent', attempts: 3 });
    expect(http.requests.filter((r) => r.path === '/flaky')).toHaveLength(1);
  });

  it('sends what still fails after the retries to alerts.dlq with the reason', async () => {
    http.respond('/broken', 500);
    await produce(alertEvent('Broken', '4444444444444444'));
    await waitFor(() => dlq.some((m) => m.headers?.['vigil.receiver']?.toString() === 'broken'), 'a dead letter');
    const m = dlq.find((x) => x.headers?.['vigil.receiver']?.toString() === 'broken')!;
    expect(m.headers!['vigil.reason']!.toString()).toMatch(/^gave up after 3 attempts: webhook "broken": HTTP 500/);
    const n = JSON.parse(m.value!.toString());
    expect(n.alerts[0].fingerprint).toBe('4444444444444444');
    expect(m.headers!['vigil.idempotency-key']!.toString()).toBe(n.key);
  });

  it('dead-letters an alert event that does not decode, with its bytes and vigil.* headers', async () => {
    await producer.send({ topic: stack.config.topics.alerts, messages: [{ key: 'bad', value: Buffer.from('not avro at all') }] });
    await waitFor(() => dlq.some((m) => m.key?.toString() === 'bad'), 'the undecodable record');
    const m = dlq.find((x) => x.key?.toString() === 'bad')!;
    expect(m.value!.toString()).toBe('not avro at all');
    expect(m.headers!['vigil.reason']!.toString()).toMatch(/^not_wire_format/);
    expect(m.headers!['vigil.topic']!.toString()).toBe(stack.config.topics.alerts);
    expect(m.headers!['vigil.partition']!.toString()).toMatch(/^\d+$/);
    expect(m.headers!['vigil.offset']!.toString()).toMatch(/^\d+$/);
  });

  it('serves silences, acks and alert history over HTTP; bad requests get 400 naming the field', async () => {
    const api = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${notifier.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const bad = await api('/api/v1/silences', 'POST', { matchers: [{ name: 'host', value: 'x' }], endsAt: 'never', createdBy: 'a', comment: 'c' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'endsAt' });
    const badJson = await fetch(`${notifier.url}/api/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(badJson.status).toBe(400);

    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await api('/api/v1/silences', 'POST', { matchers: [{ name: 'alertname', value: 'Page' }], endsAt, createdBy: 'alice', comment: 'deploy' });
    expect(created.status).toBe(200);
    const { silenceID } = (await created.json()) as { silenceID: string };
    const list = (await (await api('/api/v1/silences')).json()) as { id: string; status: { state: string } }[];
    expect(list.find((s) => s.id === silenceID)?.status.state).toBe('active');
    const expired = await api(`/api/v1/silences/${silenceID}`, 'DELETE');
    expect(((await expired.json()) as { status: { state: string } }).status.state).toBe('expired');
    expect((await api('/api/v1/silences/nope', 'DELETE')).status).toBe(404);

    await produce(alertEvent('Flaky', '5555555555555555'));
    await waitFor(() => notifier.core.alert('5555555555555555') !== undefined, 'the alert');
    const badAck = await api('/api/v1/acks', 'POST', { fingerprint: '5555555555555555' });
    expect(badAck.status).toBe(400);
    expect(await badAck.json()).toMatchObject({ field: 'author' });
    const unknown = await api('/api/v1/acks', 'POST', { fingerprint: 'ffffffffffffffff', author: 'bob' });
    expect(await unknown.json()).toMatchObject({ field: 'fingerprint' });
    expect((await api('/api/v1/acks', 'POST', { fingerprint: '5555555555555555', author: 'bob', comment: 'mine' })).status).toBe(200);

    const alerts = (await (await api('/api/v1/notifier/alerts')).json()) as { fingerprint: string; acked: boolean }[];
    expect(alerts.find((a) => a.fingerprint === '5555555555555555')?.acked).toBe(true);
    // an ack of a paged alert is forwarded to PagerDuty as `acknowledge`
    await produce(alertEvent('Page', '8888888888888888'));
    await http.waitFor((r) => r.some((x) => x.path === '/v2/enqueue' && x.body.dedup_key === '8888888888888888'));
    expect((await api('/api/v1/acks', 'POST', { fingerprint: '8888888888888888', author: 'erin' })).status).toBe(200);
    await http.waitFor((r) => r.some((x) => x.path === '/v2/enqueue' && x.body.dedup_key === '8888888888888888' && x.body.event_action === 'acknowledge'));

    const h = (await (await api('/api/v1/alerts/0123456789abcdef/history')).json()) as { history: { type: string; receiver?: string }[] };
    expect(h.history.map((e) => e.type)).toEqual(['transition', 'notification', 'notification', 'transition', 'notification', 'notification']);
    const h5 = (await (await api('/api/v1/alerts/5555555555555555/history')).json()) as { history: { type: string }[] };
    expect(h5.history.map((e) => e.type)).toContain('ack');
  });

  it('vigil silence add|list|expire and vigil ack talk to the API', async () => {
    const vigil = async (...args: string[]) => {
      let out = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out += chunk.toString();
        return true;
      });
      try {
        await buildProgram().parseAsync(['node', 'vigil', ...args, '--url', notifier.url]);
      } finally {
        spy.mockRestore();
      }
      return out;
    };
    const id = (await vigil('silence', 'add', 'alertname=Flaky', 'host=~"web.*"', '--duration', '30m', '--author', 'carol', '--comment', 'cli')).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(notifier.core.silences.get(id)?.matchers).toEqual([
      { name: 'alertname', op: '=', value: 'Flaky' },
      { name: 'host', op: '=~', value: 'web.*' },
    ]);
    expect(await vigil('silence', 'list')).toMatch(new RegExp(`${id}\\s+active.*carol.*alertname="Flaky",host=~"web\\.\\*".*cli`));
    expect(await vigil('silence', 'expire', id)).toBe(`expired ${id}\n`);
    expect(await vigil('silence', 'list')).not.toContain(id);
    expect(await vigil('silence', 'list', '--all')).toContain(id);
    await expect(vigil('silence', 'add', 'alertname=X', '--end', '2001-01-01T00:00:00Z', '--comment', 'old')).rejects.toThrow(/400: "endsAt": must be after startsAt/);
    await expect(vigil('silence', 'add', 'alertname', '--comment', 'x')).rejects.toThrow(/bad matcher "alertname"/);
    await produce(alertEvent('Flaky', '6666666666666666'));
    await waitFor(() => notifier.core.alert('6666666666666666') !== undefined, 'the alert');
    expect(await vigil('ack', '6666666666666666', '--author', 'dave')).toMatch(/^acknowledged 6666666666666666/);
    await expect(vigil('ack', 'ffffffffffffffff', '--author', 'dave')).rejects.toThrow(/400: "fingerprint"/);
  });

  it('vigil notify --rules runs the notifier from rules files; a bad file is exit 1 with file:line:col', async () => {
    const good = join(dir, 'cli.rules');
    await writeFile(good, `receiver hook { webhook url "${http.url}/cli-hook" }\nroute { match { alertname = "Cli" } notify hook group_wait 0s }\n`);
    const env = { ...stackEnv(stack, dir), VIGIL_STATE_DIR: join(dir, 'cli-state'), VIGIL_HTTP_PORT: '0', VIGIL_LOG_LEVEL: 'warn' };
    const child = spawnVigil(['notify', '--rules', good], env);
    let seen = '';
    try {
      const childUrl = (await child.waitFor(/API on (http:\/\/\S+)/, 60_000))[1]!;
      await produce(alertEvent('Cli', '7777777777777777'));
      // a silence made on one instance reaches the other through the silences topic
      const endsAt = new Date(Date.now() + 600_000).toISOString();
      const made = await fetch(`${notifier.url}/api/v1/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'Elsewhere' }], endsAt, createdBy: 'frank', comment: 'shared' }),
      });
      const { silenceID } = (await made.json()) as { silenceID: string };
      await waitFor(() => seen.includes(silenceID), 'the silence on the other instance', 20_000, async () => {
        seen = JSON.stringify(await (await fetch(`${childUrl}/api/v1/silences`)).json());
      });
      await http.waitFor((r) => r.some((x) => x.path === '/cli-hook' && x.body.alerts[0].fingerprint === '7777777777777777'), 30_000);
      expect(await child.stop('SIGTERM')).toBe(0);
    } finally {
      await child.stop('SIGKILL');
    }
    const bad = join(dir, 'bad.rules');
    await writeFile(bad, 'receiver hook { webhook url "http://x" }\nroute { match { alertname = "Cli" } notify nobody }\n');
    const failing = spawnVigil(['notify', '--rules', bad], env);
    expect(await failing.stop('SIGCONT', 60_000)).toBe(1); // SIGCONT is harmless: this only awaits the exit
    expect(failing.stderr()).toContain(`${bad}:2:44: unknown receiver "nobody"`);
  });

  it('refuses to start with an unknown receiver type, naming it', async () => {
    const config = { ...stack.config, state: { dir: join(dir, 'state2') } };
    await expect(
      startNotifier(config, { notify: { receivers: [{ name: 'chat', type: 'slack' } as never], routes: [], inhibits: [] } }),
    ).rejects.toThrow(/receiver "chat": unknown receiver type "slack"/);
  });
});
