import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { alertFromEvent } from '../../../src/sinks/notify/alert.js';
import { EmailReceiver, messageIdOf } from '../../../src/sinks/notify/email/email-receiver.js';
import { emailContent } from '../../../src/sinks/notify/email/email-message.js';
import { createReceiver } from '../../../src/sinks/notify/create-receivers.js';
import { pagerdutyEvent } from '../../../src/sinks/notify/pagerduty/pagerduty-receiver.js';
import { webhookPayload } from '../../../src/sinks/notify/webhook/webhook-receiver.js';
import type { AlertNotification } from '../../../src/sinks/notify/notification.js';
import { NotifyConfigError } from '../../../src/sinks/notify/errors.js';
import { event } from './fixtures.js';

const fire = alertFromEvent({
  ...event({ alertname: 'HighCpu', host: 'web<1>', pool: 'a', severity: 'critical' }, 'FIRING', { at: Date.UTC(2026, 0, 1) }),
  fingerprint: '0123456789abcdef',
  annotations: { summary: 'CPU <b>high</b> & "hot"' },
});
const resolved = alertFromEvent({
  ...event({ alertname: 'HighCpu', host: 'web2', pool: 'a', severity: 'critical' }, 'RESOLVED', { at: Date.UTC(2026, 0, 1, 1) }),
  fingerprint: 'fedcba9876543210',
  active_since: Date.UTC(2026, 0, 1),
});
const notification: AlertNotification = {
  kind: 'alerts',
  key: 'k'.repeat(32),
  receiver: 'ops',
  groupKey: 'ops:x',
  routeIndex: 0,
  groupLabels: { alertname: 'HighCpu', pool: 'a' },
  alerts: [fire, resolved],
  reason: 'first notification',
  createdAt: Date.UTC(2026, 0, 1, 2),
};

describe('webhook payload (Alertmanager v4)', () => {
  it('has every field of the published format', () => {
    const p = webhookPayload(notification, 'http://vigil:9464');
    expect(Object.keys(p).sort()).toEqual(
      ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'].sort(),
    );
    expect(p).toMatchObject({
      version: '4',
      groupKey: '{}/route1:{alertname="HighCpu", pool="a"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ops',
      groupLabels: { alertname: 'HighCpu', pool: 'a' },
      commonLabels: { alertname: 'HighCpu', pool: 'a', severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'http://vigil:9464',
    });
    expect(p.alerts[0]).toEqual({
      status: 'firing',
      labels: fire.labels,
      annotations: fire.annotations,
      startsAt: '2026-01-01T00:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://vigil:9464/api/v1/alerts/0123456789abcdef/history',
      fingerprint: '0123456789abcdef',
    });
    expect(p.alerts[1]).toMatchObject({ status: 'resolved', endsAt: '2026-01-01T01:00:00.000Z' });
    expect(webhookPayload(notification, 'x', 1)).toMatchObject({ truncatedAlerts: 1 });
  });
});

describe('PagerDuty Events v2', () => {
  it('triggers with a full payload and resolves by dedup_key', () => {
    const t = pagerdutyEvent(fire, 'trigger', 'R'.repeat(32), 'http://v');
    expect(t).toMatchObject({ routing_key: 'R'.repeat(32), event_action: 'trigger', dedup_key: '0123456789abcdef' });
    expect(t.payload).toMatchObject({
      summary: 'CPU <b>high</b> & "hot"',
      source: 'web<1>',
      severity: 'critical',
      timestamp: '2026-01-01T00:00:00.000Z',
      group: 'a',
      class: 'HighCpu',
    });
    const r = pagerdutyEvent(resolved, 'resolve', 'R'.repeat(32), 'http://v');
    expect(r.payload).toBeUndefined();
    expect(r.dedup_key).toBe('fedcba9876543210');
  });
  it('resolves env("X") routing keys at start-up and names a missing variable', () => {
    const env = { pagerdutyUrl: 'http://pd', smtpFrom: 'v@x', outbox: '/tmp/x', externalUrl: 'http://v' };
    expect(() => createReceiver({ name: 'pd', type: 'pagerduty', routingKey: { env: 'PD_KEY' } }, { ...env, env: {} })).toThrow(NotifyConfigError);
    expect(() => createReceiver({ name: 'pd', type: 'pagerduty', routingKey: { env: 'PD_KEY' } }, { ...env, env: {} })).toThrow(/"PD_KEY" is not set/);
    expect(createReceiver({ name: 'pd', type: 'pagerduty', routingKey: { env: 'PD_KEY' } }, { ...env, env: { PD_KEY: 'k' } }).type).toBe('pagerduty');
    expect(() => createReceiver({ name: 'c', type: 'slack' } as never, { ...env, env: {} })).toThrow(/unknown receiver type "slack"/);
  });
  it('writes pages to the log when asked to, for a routing key that is not set (dev default)', async () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const logger = {
      warn: (obj: Record<string, unknown>, msg: string) => void lines.push({ level: 'warn', obj, msg }),
      info: (obj: Record<string, unknown>, msg: string) => void lines.push({ level: 'info', obj, msg }),
    } as never;
    const env = { pagerdutyUrl: 'http://127.0.0.1:9/unreachable', smtpFrom: 'v@x', outbox: '/tmp/x', externalUrl: 'http://v', env: {}, missingRoutingKey: 'log' as const, logger };
    const r = createReceiver({ name: 'pd', type: 'pagerduty', routingKey: { env: 'PD_KEY' } }, env);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'PD_KEY is not set: pages of receiver "pd" are written to the log' });
    expect(await r.send(notification)).toEqual({ retryable: false });
    expect(lines.slice(1).map((l) => (l.obj.page as { event_action: string; dedup_key: string }))).toMatchObject([
      { event_action: 'trigger', dedup_key: '0123456789abcdef' },
      { event_action: 'resolve', dedup_key: 'fedcba9876543210' },
    ]);
  });
});

describe('email', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('escapes values in HTML and renders subject templates', () => {
    const c = emailContent(notification, { subject: '[{{ status | upper }}] {{ groupLabels.alertname }} in {{ commonLabels.pool }} ({{ firing }})' });
    expect(c.subject).toBe('[FIRING] HighCpu in a (1)');
    expect(c.html).toContain('CPU &lt;b&gt;high&lt;/b&gt; &amp; &quot;hot&quot;');
    expect(c.html).not.toContain('<b>high</b>');
    expect(c.text).toContain('CPU <b>high</b> & "hot"');
    expect(emailContent(notification, {}).subject).toBe('[FIRING:1] HighCpu pool=a');
  });

  it('rejects unknown template names at start-up', () => {
    expect(() => new EmailReceiver({ name: 'm', type: 'email', to: ['a@b'], subject: '{{ nope }}' }, { outbox: '/tmp', from: 'v@x' })).toThrow(/unknown template name "nope"/);
  });

  it('writes one .eml per notification to the outbox with a Message-ID from the key', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-outbox-'));
    const r = new EmailReceiver({ name: 'm', type: 'email', to: ['ops@example.com', 'sre@example.com'] }, { outbox: dir, from: 'vigil@example.com' });
    expect(await r.send(notification)).toEqual({ retryable: false });
    expect(await readdir(dir)).toEqual([`${notification.key}.eml`]);
    const mail = await simpleParser(await readFile(join(dir, `${notification.key}.eml`)));
    expect(mail.messageId).toBe(messageIdOf(notification.key));
    expect(mail.subject).toBe('[FIRING:1] HighCpu pool=a');
    expect((mail.to as { text: string }).text).toBe('ops@example.com, sre@example.com');
    expect(mail.html).toContain('web&lt;1&gt;');
  });
});
