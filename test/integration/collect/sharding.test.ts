import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../../src/collect/collector.js';
import type { ScrapeJob } from '../../../src/collect/scrape/scrape-config.js';
import { closeScrapeAgents } from '../../../src/collect/scrape/scrape-http.js';
import { slotOffset } from '../../../src/collect/scrape/scrape-manager.js';
import { Membership } from '../../../src/collect/shard/membership.js';
import { ShardSchedule, type ShardView } from '../../../src/collect/shard/shard-schedule.js';
import { createKafka } from '../../../src/kafka/client.js';
import { useEmbeddedKafka } from '../../support/stack.js';
import { RecordingPublisher, startServer, waitFor, type TestServer } from '../../collect/support/helpers.js';

const TARGETS = 300;
const INTERVAL = 1000;
const kafka = useEmbeddedKafka();
const servers: TestServer[] = [];

interface Member {
  id: string;
  schedule: ShardSchedule;
  views: ShardView[];
  membership: Membership;
  collector: Collector;
}

const job: ScrapeJob = {
  name: 'fleet',
  intervalMs: INTERVAL,
  timeoutMs: 500,
  metricsPath: '/metrics',
  scheme: 'http',
  honorLabels: false,
  honorTimestamps: true,
  params: {},
  fileSd: [],
  staticGroups: [],
};

async function startMember(id: string): Promise<Member> {
  const schedule = new ShardSchedule(id);
  const views: ShardView[] = [];
  const collector = new Collector({
    jobs: [{ ...job, staticGroups: [{ targets: servers.map((s) => s.address), labels: {}, source: 'test' }] }],
    publisher: new RecordingPublisher(),
    owns: (key, slot) => schedule.owns(key, slot),
    userAgent: `vigil-collect/test (${id})`,
  });
  const membership = new Membership({
    kafka: createKafka(kafka.bootstrapServers, `collector-${id}`),
    brokers: kafka.bootstrapServers,
    instanceId: id,
    groupId: 'collectors-test',
    topic: 'collectors-test-views',
    settleMs: 1500,
    onView: (view) => {
      schedule.add(view);
      views.push(view);
    },
  });
  await Promise.all([collector.start(), membership.start()]);
  return { id, schedule, views, membership, collector };
}

/** Who scraped each target in each slot between `from` and `to` (slot times): url -> slot -> collector ids. */
function slotsBetween(from: number, to: number, keyOf: Map<string, string>) {
  const result = new Map<string, Map<number, string[]>>();
  for (const s of servers) {
    const url = `http://${s.address}/metrics`;
    const offset = slotOffset(keyOf.get(url)!, INTERVAL);
    const slots = new Map<number, string[]>();
    for (const hit of s.hits) {
      // Nearest slot: tolerant of timer lateness up to half an interval.
      const slot = Math.round((hit.at - offset) / INTERVAL) * INTERVAL + offset;
      if (slot < from || slot >= to) continue;
      const who = /\((.+)\)/.exec(String(hit.headers['user-agent']))![1]!;
      slots.set(slot, [...(slots.get(slot) ?? []), who]);
    }
    result.set(url, slots);
  }
  return result;
}

/** Asserts every target was scraped exactly once in every slot of [from, to); returns target -> owner. */
function assertExactlyOnce(from: number, to: number, keyOf: Map<string, string>): Map<string, string> {
  const owners = new Map<string, string>();
  const problems: string[] = [];
  for (const [url, slots] of slotsBetween(from, to, keyOf)) {
    const offset = slotOffset(keyOf.get(url)!, INTERVAL);
    const first = Math.ceil((from - offset) / INTERVAL) * INTERVAL + offset;
    for (let slot = first; slot < to; slot += INTERVAL) {
      const who = slots.get(slot) ?? [];
      if (who.length !== 1) problems.push(`${url} slot ${slot}: scraped by [${who.join(',')}]`);
      else if (owners.has(url) && owners.get(url) !== who[0]) problems.push(`${url} changed owner within the window`);
      else owners.set(url, who[0]!);
    }
  }
  expect(problems.slice(0, 10)).toEqual([]);
  return owners;
}

describe('sharded scraping over a Kafka consumer group', () => {
  const members: Member[] = [];

  beforeAll(async () => {
    for (let i = 0; i < TARGETS; i++) servers.push(await startServer((_req, res) => res.end(`t ${i}\n`)));
  });
  afterAll(async () => {
    for (const m of members) {
      await m.collector.close();
      await m.membership.leave();
    }
    await Promise.all(servers.map((s) => s.close()));
    closeScrapeAgents();
  });

  it('three collectors scrape each of 300 targets exactly once per interval; when one leaves only its third moves', async () => {
    members.push(...(await Promise.all(['a', 'b', 'c'].map(startMember))));
    const keyOf = new Map(members[0]!.collector.currentTargets().map((t) => [t.url, t.key]));
    // Wait until all three see a view with all three members, and it is in force.
    const full = await waitFor(
      () => {
        const views = members.map((m) => m.views.find((v) => v.members.length === 3));
        return views.every((v) => v) && views.every((v) => v!.effectiveAt === views[0]!.effectiveAt) ? views[0] : undefined;
      },
      40_000,
      'a three-member view',
    );
    const start = Math.max(full.effectiveAt, Date.now()) + INTERVAL;
    await new Promise((r) => setTimeout(r, start + 3 * INTERVAL + 600 - Date.now()));
    const before = assertExactlyOnce(start, start + 3 * INTERVAL, keyOf);
    const shares = ['a', 'b', 'c'].map((id) => [...before.values()].filter((o) => o === id).length);
    expect(shares.reduce((x, y) => x + y)).toBe(TARGETS);
    for (const share of shares) expect(share).toBeGreaterThan(60);

    // Member c leaves the group (gracefully): stop scraping, then leave.
    const leaver = members.pop()!;
    leaver.schedule.clear();
    await leaver.collector.close();
    await leaver.membership.leave();
    const two = await waitFor(
      () => {
        const views = members.map((m) => m.views.find((v) => v.members.length === 2 && v.effectiveAt > full.effectiveAt));
        return views.every((v) => v) ? views[0] : undefined;
      },
      40_000,
      'a two-member view',
    );
    const start2 = Math.max(two.effectiveAt, Date.now()) + INTERVAL;
    await new Promise((r) => setTimeout(r, start2 + 3 * INTERVAL + 600 - Date.now()));
    const after = assertExactlyOnce(start2, start2 + 3 * INTERVAL, keyOf);
    let moved = 0;
    for (const [url, owner] of before) {
      if (owner === 'c') {
        moved++;
        expect(['a', 'b']).toContain(after.get(url));
      } else expect(after.get(url)).toBe(owner);
    }
    expect(moved).toBe(shares[2]);
    // No slot scraped twice across the hand-over either (from the first view until now).
    const overall = slotsBetween(full.effectiveAt, start2 + 3 * INTERVAL, keyOf);
    const doubles = [...overall.values()].flatMap((slots) => [...slots.values()].filter((w) => w.length > 1));
    expect(doubles).toEqual([]);
  });
});
