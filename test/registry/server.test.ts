import { afterEach, describe, expect, it } from 'vitest';
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startSchemaRegistry, type SchemaRegistry } from '../../src/registry/server.js';
import { InMemorySchemaLog } from '../../src/registry/schema-log.js';
import { contractSchema } from '../../src/model/avro-schemas.js';

const v1 = JSON.stringify({ type: 'record', name: 'Thing', namespace: 't', fields: [{ name: 'a', type: 'string' }] });
const v2 = JSON.stringify({
  type: 'record',
  name: 'Thing',
  namespace: 't',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'b', type: ['null', 'long'], default: null },
  ],
});
const incompatible = JSON.stringify({
  type: 'record',
  name: 'Thing',
  namespace: 't',
  fields: [
    { name: 'a', type: 'string' },
    { name: 'c', type: 'long' },
  ],
});

let registry: SchemaRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function start(log = new InMemorySchemaLog()): Promise<{ url: string; client: Client; log: InMemorySchemaLog }> {
  registry = await startSchemaRegistry({ log });
  return { url: registry.url, client: new Client({ host: registry.url, retry: { retries: 0 } }), log };
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; type: string }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), type: res.headers.get('content-type') ?? '' };
}

describe('embedded schema registry with @kafkajs/confluent-schema-registry', () => {
  it('registers, encodes, decodes, and finds ids', async () => {
    const { client } = await start();
    const schema = contractSchema('sample-batch').text;
    const { id } = await client.register({ type: SchemaType.AVRO, schema }, { subject: 'metrics-value' });
    expect(id).toBe(1);
    const batch = { source: { host: 'h' }, samples: [{ name: 'up', labels: {}, timestamp: 1, value: 1, kind: 'GAUGE' }] };
    const bytes = await client.encode(id, batch);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    // A fresh client must fetch the schema by id.
    const other = new Client({ host: registry!.url });
    expect(await other.decode(bytes)).toEqual(batch);
    expect(await other.getLatestSchemaId('metrics-value')).toBe(id);
    expect(await other.getRegistryIdBySchema('metrics-value', { type: SchemaType.AVRO, schema })).toBe(id);
    expect(await other.getRegistryId('metrics-value', 1)).toBe(id);
    // Registering again is idempotent.
    expect((await client.register({ type: SchemaType.AVRO, schema }, { subject: 'metrics-value' })).id).toBe(id);
  });

  it('shares ids across subjects and versions a subject', async () => {
    const { url, client } = await start();
    const a = await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'a-value' });
    const b = await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'b-value' });
    expect(b.id).toBe(a.id);
    const a2 = await client.register({ type: SchemaType.AVRO, schema: v2 }, { subject: 'a-value' });
    expect(a2.id).toBe(a.id + 1);
    expect((await call(url, 'GET', '/subjects')).body).toEqual(['a-value', 'b-value']);
    expect((await call(url, 'GET', '/subjects/a-value/versions')).body).toEqual([1, 2]);
    const latest = await call(url, 'GET', '/subjects/a-value/versions/latest');
    expect(latest.body).toEqual({ subject: 'a-value', version: 2, id: a2.id, schema: v2 });
    expect(latest.type).toContain('application/vnd.schemaregistry.v1+json');
    expect((await call(url, 'GET', '/subjects/a-value/versions/1')).body.id).toBe(a.id);
    expect((await call(url, 'GET', `/schemas/ids/${a2.id}`)).body).toEqual({ schema: v2 });
  });

  it('rejects an incompatible schema with 409 and keeps the subject unchanged', async () => {
    const { url, client } = await start();
    await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'a-value' });
    await expect(client.register({ type: SchemaType.AVRO, schema: incompatible }, { subject: 'a-value' })).rejects.toMatchObject({
      status: 409,
    });
    const res = await call(url, 'POST', '/subjects/a-value/versions', { schema: incompatible });
    expect(res.status).toBe(409);
    expect(res.body.error_code).toBe(409);
    expect(res.body.message).toMatch(/incompatible/);
    expect((await call(url, 'GET', '/subjects/a-value/versions')).body).toEqual([1]);
    const check = await call(url, 'POST', '/compatibility/subjects/a-value/versions/latest', { schema: incompatible });
    expect(check.body).toEqual({ is_compatible: false });
    const ok = await call(url, 'POST', '/compatibility/subjects/a-value/versions/latest', { schema: v2 });
    expect(ok.body).toEqual({ is_compatible: true });
  });

  it('answers bad requests with Confluent error codes', async () => {
    const { url } = await start();
    await call(url, 'POST', '/subjects/a-value/versions', { schema: v1 });
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/schemas/ids/99', undefined, 404, 40403],
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/nope/versions/latest', undefined, 404, 40401],
      ['GET', '/subjects/a-value/versions/7', undefined, 404, 40402],
      ['GET', '/subjects/a-value/versions/zero', undefined, 422, 42202],
      ['POST', '/subjects/a-value', { schema: v2 }, 404, 40403],
      ['POST', '/subjects/nope', { schema: v1 }, 404, 40401],
      ['GET', '/config/a-value', undefined, 404, 40408],
      ['PUT', '/config/a-value', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['POST', '/subjects/a-value/versions', { schema: '{"type": "record"' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', { schema: '{"type": "recrod", "name": "x"}' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', { schema: v1, schemaType: 'PROTOBUF' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', {}, 422, 42201],
      ['POST', '/subjects/a-value/versions', 'not json', 400, 400],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(url, method, path, body);
      expect({ method, path, status: res.status, code: res.body.error_code }).toEqual({ method, path, status, code });
      expect(typeof res.body.message).toBe('string');
    }
  });

  it('keeps global and subject compatibility levels', async () => {
    const { url, client } = await start();
    expect((await call(url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'a-value' });
    // The client set the subject level after its first registration.
    expect((await call(url, 'GET', '/config/a-value')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call(url, 'PUT', '/config/a-value', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call(url, 'POST', '/subjects/a-value/versions', { schema: incompatible })).status).toBe(200);
    expect((await call(url, 'DELETE', '/config/a-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call(url, 'GET', '/config/a-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call(url, 'PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call(url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
  });

  it('recovers every schema from its log after a restart', async () => {
    const { client, log } = await start();
    const a = await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'a-value' });
    const b = await client.register({ type: SchemaType.AVRO, schema: v2 }, { subject: 'a-value' });
    await registry!.close();
    const again = await start(log);
    expect(await again.client.getLatestSchemaId('a-value')).toBe(b.id);
    expect((await call(again.url, 'GET', `/schemas/ids/${a.id}`)).body).toEqual({ schema: v1 });
    // New ids continue after the recovered ones.
    const c = await again.client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'c-value' });
    expect(c.id).toBe(a.id);
    const d = await again.client.register({ type: SchemaType.AVRO, schema: contractSchema('alert-event').text }, { subject: 'alerts-value' });
    expect(d.id).toBe(3);
  });

  it('soft-deletes and then permanently deletes subjects and versions, and recovers that from the log', async () => {
    const { url, client, log } = await start();
    const a = await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'a-value' });
    await client.register({ type: SchemaType.AVRO, schema: v2 }, { subject: 'a-value' });
    await client.register({ type: SchemaType.AVRO, schema: v1 }, { subject: 'b-value' });
    expect((await call(url, 'GET', `/schemas/ids/${a.id}/versions`)).body).toEqual([
      { subject: 'a-value', version: 1 },
      { subject: 'b-value', version: 1 },
    ]);
    expect((await call(url, 'GET', `/schemas/ids/${a.id}/subjects`)).body).toEqual(['a-value', 'b-value']);
    expect((await call(url, 'DELETE', '/subjects/a-value/versions/2?permanent=true')).body.error_code).toBe(40407);
    expect((await call(url, 'DELETE', '/subjects/a-value/versions/latest')).body).toBe(2);
    expect((await call(url, 'GET', '/subjects/a-value/versions')).body).toEqual([1]);
    expect((await call(url, 'DELETE', '/subjects/a-value/versions/2')).body.error_code).toBe(40402);
    expect((await call(url, 'DELETE', '/subjects/b-value?permanent=true')).body.error_code).toBe(40405);
    expect((await call(url, 'DELETE', '/subjects/b-value')).body).toEqual([1]);
    expect((await call(url, 'DELETE', '/subjects/b-value')).body.error_code).toBe(40404);
    expect((await call(url, 'GET', '/subjects')).body).toEqual(['a-value']);
    expect((await call(url, 'GET', '/subjects?deleted=true')).body).toEqual(['a-value', 'b-value']);
    expect((await call(url, 'GET', '/subjects/b-value/versions/1')).body.error_code).toBe(40401);
    // The schema stays readable by id: old records must still decode.
    expect((await call(url, 'GET', `/schemas/ids/${a.id}`)).status).toBe(200);
    expect((await call(url, 'DELETE', '/subjects/b-value?permanent=true')).body).toEqual([1]);
    expect((await call(url, 'GET', '/subjects?deleted=true')).body).toEqual(['a-value']);
    // Re-registering a deleted schema gives a new version number and the same id.
    const again = await call(url, 'POST', '/subjects/a-value/versions', { schema: v2 });
    expect(again.body).toEqual({ id: a.id + 1 });
    expect((await call(url, 'GET', '/subjects/a-value/versions')).body).toEqual([1, 3]);
    expect((await call(url, 'DELETE', '/subjects/nope')).body.error_code).toBe(40401);

    await registry!.close();
    const restarted = await start(log);
    expect((await call(restarted.url, 'GET', '/subjects?deleted=true')).body).toEqual(['a-value']);
    expect((await call(restarted.url, 'GET', '/subjects/a-value/versions')).body).toEqual([1, 3]);
    expect((await call(restarted.url, 'GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
  });

  it('answers 500 with error code 50001 when the log cannot be written, and keeps nothing', async () => {
    class BrokenLog extends InMemorySchemaLog {
      override async append(): Promise<void> {
        throw new Error('broker down');
      }
    }
    registry = await startSchemaRegistry({ log: new BrokenLog() });
    const res = await call(registry.url, 'POST', '/subjects/a-value/versions', { schema: v1 });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error_code: 50001, message: 'Error in the backend data store: broker down' });
    expect((await call(registry.url, 'GET', '/subjects')).body).toEqual([]);
  });
});
