import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSources } from '../../../src/dsl/index.js';
import { loadNotifyConfig, notifyConfigFromRules } from '../../../src/sinks/notify/config-from-rules.js';
import { compileNotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import { matchRoutes } from '../../../src/sinks/notify/route-match.js';
import { createReceivers } from '../../../src/sinks/notify/create-receivers.js';

const RULES = `
receiver ops-email  { email to "ops@example.com", "sre@example.com" }
receiver infra-page { pagerduty routing_key env("PD_INFRA_KEY") }
receiver audit-hook { webhook url "https://hooks.example.com/vigil" }
receiver both { email to "a@example.com" webhook url "https://h.example.com" send_resolved false }

route {
  match { severity = "critical" }
  notify infra-page
  group by (alertname, pool)
  group_wait 30s  group_interval 5m  repeat_interval 4h
  continue
}
route { match { severity =~ "warning|page" }  notify ops-email }
route { match { team !~ "db.*" } notify audit-hook, both }

inhibit {
  source { severity = "critical" }
  target { severity = "warning" }
  equal (host)
}
`;

describe('config from rules', () => {
  const result = checkSources([{ file: 'notify.rules', source: RULES }]);

  it('maps routes, receivers and inhibits of the rules language', () => {
    expect(result.errors).toEqual([]);
    const c = notifyConfigFromRules(result.model!, 'ops-email');
    expect(c.routes[0]).toEqual({
      match: [{ name: 'severity', op: '=', value: 'critical' }],
      receivers: ['infra-page'],
      groupBy: ['alertname', 'pool'],
      groupWaitMs: 30_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      continue: true,
    });
    expect(c.routes[1]!.groupBy).toEqual(['alertname']);
    expect(c.receivers.filter((r) => r.name === 'both').map((r) => [r.type, r.sendResolved])).toEqual([
      ['email', true],
      ['webhook', false],
    ]);
    expect(c.receivers.find((r) => r.name === 'infra-page')).toMatchObject({ type: 'pagerduty', routingKey: { env: 'PD_INFRA_KEY' } });
    expect(c.inhibits).toEqual([
      { source: [{ name: 'severity', op: '=', value: 'critical' }], target: [{ name: 'severity', op: '=', value: 'warning' }], equal: ['host'] },
    ]);
    const compiled = compileNotifyConfig(c);
    expect(matchRoutes(compiled, { severity: 'critical', team: 'web' }).map((m) => m.receiver)).toEqual(['infra-page', 'audit-hook', 'both']);
    expect(matchRoutes(compiled, { severity: 'info', team: 'db1' }).map((m) => m.receiver)).toEqual(['ops-email']);
    const env = { smtpFrom: 'v@x', outbox: '/tmp', pagerdutyUrl: 'http://pd', externalUrl: 'http://v' };
    expect(() => createReceivers(compiled, { ...env, env: {} })).toThrow(/receiver "infra-page" routing_key: environment variable "PD_INFRA_KEY" is not set/);
    expect([...createReceivers(compiled, { ...env, env: { PD_INFRA_KEY: 'k' } }).values()].map((r) => r.type)).toEqual(['email', 'pagerduty', 'webhook', 'fanout']);
  });

  it('reports every rules error with file:line:col', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-notify-rules-'));
    try {
      const file = join(dir, 'bad.rules');
      await writeFile(file, 'receiver a { webhook url "http://x" }\nroute { notify ghost }\ninhibit { source { x =~ "(" } target { y = "1" } equal (host) }\n');
      let message = '';
      try {
        loadNotifyConfig([file]);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(`${file}:2:16: unknown receiver "ghost"`);
      expect(message).toMatch(new RegExp(`${file}:3:\\d+: .*regex`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
