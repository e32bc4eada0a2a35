/**
 * The query service inside the engine (`vigil run`'s modules) on the embedded Kafka: the query
 * worker answers PromQL over the head it feeds from `metrics` and over the archive, exports the
 * head's figures on the engine's /metrics, and a long regex query at the series limit runs while
 * the engine keeps closing windows in the same process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';
import { createKafka } from '../../../src/kafka/client.js';
import { queryModule } from '../../../src/query/query-module.js';
import { writeArchiveFixture } from '../../support/archive-fixture.js';
import { useStack } from '../../support/stack.js';
import { until } from '../../support/until.js';
import { collect, fixtureInput, oracle, publish, T0 } from '../topology/rollup-fixture.js';

const stack = useStack({ partitions: 2 });
// Archived hours are older than what the head holds (the fixture's T0, 2023-11-14).
const ARCHIVE_T0 = Date.UTC(2023, 10, 13, 10);
// 100 hosts with 25-character names: the pathological regex below runs over each of them.
const HOSTS = Array.from({ length: 100 }, (_, i) => ({ host: `h${String(i).padStart(3, '0')}${'a'.repeat(21)}` }));
const dirs: string[] = [];
let engine: Engine;

const mkdir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  const archive = mkdir('vigil-query-worker-archive-');
  await writeArchiveFixture({ root: archive, t0: ARCHIVE_T0, hours: 1, labels: HOSTS, metrics: [{ name: 'archived_load', value: (s, t) => s + ((t / 10_000) % 7) }] });
  engine = new Engine({
    config: { ...stack.config, state: { dir: mkdir('vigil-query-worker-state-') }, archive: { ...stack.config.archive, root: archive }, query: { ...stack.config.query, maxSeries: HOSTS.length } },
    modules: [rollupModule({ hourly: false }), queryModule({ ui: false })],
    embedded: true,
    httpPort: 0,
    commitIntervalMs: 200,
  });
  await engine.start();
}, 90_000);

afterAll(async () => {
  await engine?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Polls an async condition every 200 ms. */
async function eventually(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function query(path: string, params: Record<string, string>) {
  const res = await fetch(`${engine.url()}${path}`, { method: 'POST', body: new URLSearchParams(params), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, body: (await res.json()) as any };
}

describe('the query worker in the engine', () => {
  it('answers PromQL over the archive and over the head it feeds from metrics, and exports the head on /metrics', async () => {
    const archived = await query('/api/v1/query', { query: 'count(archived_load)', time: String(ARCHIVE_T0 / 1000 + 600) });
    expect(archived.body).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [ARCHIVE_T0 / 1000 + 600, String(HOSTS.length)] }] } });

    const input = fixtureInput({ sources: 2, perSource: 3, scrapes: 6, partitions: 2 });
    await publish(createKafka(stack.brokers, 'query-worker-test'), stack.registryUrl, input, undefined, stack.config.topics.metrics);
    // 2 sources x 2 gauges (m=1, m=2): 4 series of `load` once the head has read them.
    const at = String((T0 + 60_000) / 1000);
    await eventually(async () => (await query('/api/v1/query', { query: 'count(load)', time: at })).body.data.result[0]?.value[1] === '4', 60_000, 'the head to hold the published series');
    // The worker reports its figures every second.
    const scrape = async () => (await fetch(`${engine.url()}/metrics`)).text();
    await eventually(async () => /^vigil_query_head_series 6$/m.test(await scrape()), 10_000, 'vigil_query_head_series 6 on /metrics');
    const metrics = await scrape();
    expect(metrics).toMatch(/^vigil_query_head_full 0$/m);
    expect(metrics).toMatch(/^vigil_query_requests_total\{endpoint="query",outcome="200"\} \d+$/m);
  });

  // Issue 15: `(.*.*)*Z` over 25 characters took 52.9 s inside `vigil run` and stopped stream
  // processing, heartbeats and commits. Here a query with that regex over series at the
  // query.maxSeries limit, doing far more work than its timeout allows, runs on the worker while
  // the rollup topology in the same process closes windows; it ends at its timeout.
  it('a regex query at the series limit does not hold back the engine\'s window closes', async () => {
    const kafka = createKafka(stack.brokers, 'query-worker-closes');
    const input = fixtureInput({ sources: 3, perSource: 4, scrapes: 20, partitions: 2 }).map((r) => ({
      ...r,
      batch: { ...r.batch, samples: r.batch.samples.map((s) => ({ ...s, name: `close_${s.name}` })) },
    }));
    const half = input.length / 2;
    const [first, all] = [await oracle(input.slice(0, half), 10_000), await oracle(input, 10_000)];
    const out = await collect(kafka, stack.registryUrl, stack.config.topics.rollup1m);
    try {
      const closes = () => [...out.seen.values()].filter((v) => v.value.rollups.some((r) => r.name.startsWith('close_'))).length;
      await publish(kafka, stack.registryUrl, input.slice(0, half), undefined, stack.config.topics.metrics);
      await until(() => closes() >= first.size, 60_000, 'the first windows to close');

      let answeredAt = Infinity;
      const long = query('/api/v1/query_range', {
        // Sorts 3600 points per series per step: hours of work, cut at the timeout.
        query: 'quantile_over_time(0.5, archived_load{host=~"(.*.*)*Z|h.*"}[1h:1s])',
        start: String(ARCHIVE_T0 / 1000),
        end: String(ARCHIVE_T0 / 1000 + 3 * 3600),
        step: '1',
        timeout: '15s',
      }).then((r) => {
        answeredAt = Date.now();
        return r;
      });
      await publish(kafka, stack.registryUrl, input.slice(half), undefined, stack.config.topics.metrics);
      await until(() => closes() >= all.size, 30_000, 'the later windows to close');
      const closedAt = Date.now();
      const answer = await long;
      expect(closedAt).toBeLessThan(answeredAt);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: 'error', errorType: 'timeout' });
    } finally {
      await out.stop();
    }
  });
});
