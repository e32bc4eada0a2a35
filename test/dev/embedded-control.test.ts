import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../src/dev/embedded-kafka.js';

describe('embedded Kafka control endpoint', () => {
  let kafka: EmbeddedKafka;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${kafka.controlUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    kafka = await startEmbeddedKafka({ brokers: 2 });
  });
  afterAll(() => kafka?.stop());

  it('describes the cluster', async () => {
    expect(kafka.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await call('GET', '/')).toEqual({
      status: 200,
      body: { incarnation: kafka.incarnation, bootstrapServers: kafka.bootstrapServers, brokerIds: [1, 2] },
    });
  });

  it('creates topics idempotently', async () => {
    const req = { topics: [{ name: 'ctl', partitions: 3 }] };
    expect(await call('POST', '/topics', req)).toEqual({ status: 200, body: { topics: [{ name: 'ctl', created: true }] } });
    expect(await call('POST', '/topics', req)).toEqual({ status: 200, body: { topics: [{ name: 'ctl', created: false }] } });
  });

  it('drives faults', async () => {
    expect((await call('POST', '/brokers/2/down')).status).toBe(200);
    expect((await call('POST', '/brokers/2/up')).status).toBe(200);
    expect((await call('POST', '/brokers/1/rtt', { ms: 0 })).status).toBe(200);
    expect((await call('POST', '/request-errors', { apiKey: 0, errors: [] })).status).toBe(200);
  });

  it('answers bad requests with 400 and a message', async () => {
    expect(await call('POST', '/topics', '{nope')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    expect(await call('POST', '/topics', { topics: 'x' })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/expected/) } });
    expect(await call('POST', '/topics', { topics: [{ name: 'bad name', partitions: 1 }] })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/invalid topic name "bad name"/) },
    });
    expect(await call('POST', '/brokers/9/down')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/no broker 9/) } });
    expect(await call('POST', '/brokers/1/rtt', {})).toMatchObject({ status: 400, body: { error: expect.stringMatching(/ms/) } });
    expect(await call('POST', '/nowhere', {})).toMatchObject({ status: 400, body: { error: 'unknown route: POST /nowhere' } });
    expect(await call('DELETE', '/topics')).toMatchObject({ status: 400 });
  });
});
