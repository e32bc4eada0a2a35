import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkSources, checkRulesFiles } from '../../src/dsl/index.js';

const locations = (files: Record<string, string>) =>
  checkSources(Object.entries(files).map(([file, source]) => ({ file, source }))).errors.map((e) => e.location);

describe('checker', () => {
  it('collects the errors of all files, one syntax error per file', () => {
    expect(
      locations({
        'a.rules': 'alert A { when avg(x) > }\nalert B { window 5 }',
        'b.rules': 'alert A { when foo(x) > 1 }\nroute { notify nobody }',
        'c.rules': 'receiver r { webhook url "http://x" }\nalert A { when avg(x) > 1 }',
      }),
    ).toEqual([
      'a.rules:1:25: expected a number, "value", "(", a metric or function name or an operator, got "}"',
      'b.rules:1:16: unknown function "foo"',
      'b.rules:2:16: unknown receiver "nobody"',
      'c.rules:2:7: duplicate alert name "A" (first defined at b.rules:1:7)',
    ]);
  });

  it('resolves receivers and record names across files and finds cross-file cycles', () => {
    expect(locations({ 'a.rules': 'route { notify r }', 'b.rules': 'receiver r { email to "x@y" }' })).toEqual([]);
    expect(locations({ 'a.rules': 'record a { value sum(b) }', 'b.rules': 'record b { value sum(a) }' })).toEqual([
      'b.rules:1:8: recording rule "b" is part of a cycle: a -> b -> a',
    ]);
  });

  it('applies the file defaults and normalizes rules', () => {
    const r = checkSources([
      {
        file: 'a.rules',
        source: 'defaults { window 2m grace 5s labels { team = "x" } }\nalert A { when avg(x) by (h) > 1 for 4m severity page labels { team = "y" } }\nalert B { when avg(x) > 1 window 5m every 1m }',
      },
      { file: 'b.rules', source: 'alert C { when avg(x) > 1 }' },
    ]);
    expect(r.errors).toEqual([]);
    const [a, b, c] = r.model!.rules;
    expect(a).toMatchObject({ windowMs: 120_000, stepMs: 120_000, graceMs: 5000, forMs: 240_000, labels: { team: 'y', severity: 'page' } });
    expect(b).toMatchObject({ windowMs: 300_000, stepMs: 60_000, graceMs: 5000, labels: { team: 'x' } });
    expect(c).toMatchObject({ windowMs: 60_000, stepMs: 60_000, graceMs: 10_000, forgetMs: 86_400_000, labels: {} });
    expect(a!.hash).not.toBe(c!.hash);
  });

  it('returns the notifier declarations', () => {
    const r = checkSources([
      {
        file: 'n.rules',
        source:
          'receiver p { pagerduty routing_key env("PD") }\nroute { match { severity =~ "crit.*" } notify p group by (alertname) group_wait 10s continue }\ninhibit { source { a = "1" } target { b = "2" } equal (host) }',
      },
    ]);
    expect(r.model!.receivers[0]).toMatchObject({ name: 'p', channels: [{ type: 'pagerduty', routingKey: { env: 'PD' } }] });
    expect(r.model!.routes[0]).toMatchObject({ receivers: ['p'], groupBy: ['alertname'], groupWaitMs: 10_000, groupIntervalMs: 300_000, continue: true });
    expect(r.model!.routes[0]!.matchers[0]!.regex!.test('critical')).toBe(true);
    expect(r.model!.routes[0]!.matchers[0]!.regex!.test('xcritical')).toBe(false);
    expect(r.model!.inhibits[0]).toMatchObject({ equal: ['host'] });
  });

  it('reports unreadable files and still checks the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dsl-'));
    try {
      writeFileSync(join(dir, 'a.rules'), 'alert A { when avg(x) > 1 }');
      const r = checkRulesFiles([dir, join(dir, 'missing.rules')]);
      expect(r.errors.map((e) => e.location)).toEqual([`${join(dir, 'missing.rules')}:1:1: cannot read file: no such file`]);
      expect(r.files).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vigil rules check', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '-e', `import('./src/cli/main.ts').then((m) => m.main(process.argv))`, 'x', 'rules', 'check', ...args], {
      encoding: 'utf8',
    });

  it('exits 0 on clean files and 1 with file:line:col and a caret on errors', () => {
    const ok = run('test/fixtures/dsl/valid/contract-example.rules');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 1 file, 4 alerts, 1 recording rule/);
    const bad = run('test/fixtures/dsl/invalid/syntax-duration.rules', 'test/fixtures/dsl/invalid/unknown-function.rules');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('test/fixtures/dsl/invalid/syntax-duration.rules:3:10: expected a duration like 5m, got "5"\n  window 5\n         ^\n');
    expect(bad.stderr).toContain('unknown-function.rules:2:38: unknown function "irate"');
    expect(bad.stderr).toContain('vigil: 3 errors in rules');
  }, 60_000);
});

describe('severity', () => {
  it('takes a severity label as the severity of a single-level alert', () => {
    const r = checkSources([{ file: 'a.rules', source: 'alert A { when avg(x) > 1 labels { severity = "page" } }' }]);
    expect(r.model!.rules[0]).toMatchObject({ severity: 'page', labels: { severity: 'page' } });
  });
});
