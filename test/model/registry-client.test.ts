import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRegistryClient, SchemaRegistryError } from '../../src/model/registry-client.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** An HTTP server answering with the queued [status, body] pairs, recording each request. */
async function serve(answers: [number, unknown][]): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
      const [status, answer] = answers.shift() ?? [500, { error_code: 50001, message: 'no more answers' }];
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, requests };
}

describe('HttpRegistryClient', () => {
  it('registers under the subject and fetches by id', async () => {
    const { url, requests } = await serve([
      [200, { id: 7 }],
      [200, { schema: '"string"' }],
    ]);
    const client = new HttpRegistryClient(url);
    expect(await client.register('metrics-value', '"string"')).toBe(7);
    expect(await client.schemaById(7)).toBe('"string"');
    expect(requests).toEqual([
      'POST /subjects/metrics-value/versions application/vnd.schemaregistry.v1+json {"schema":"\\"string\\""}',
      'GET /schemas/ids/7 application/vnd.schemaregistry.v1+json ',
    ]);
  });

  it('retries 5xx answers, not 4xx ones', async () => {
    const { url, requests } = await serve([
      [503, { error_code: 50003, message: 'busy' }],
      [200, { schema: '"int"' }],
      [404, { error_code: 40403, message: 'Schema 9 not found' }],
    ]);
    const client = new HttpRegistryClient(url, { retryDelayMs: 1 });
    expect(await client.schemaById(1)).toBe('"int"');
    const err = await client.schemaById(9).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaRegistryError);
    expect(err).toMatchObject({ status: 404, errorCode: 40403, retriable: false });
    expect(requests).toHaveLength(3);
  });

  it('reports an unreachable registry as retriable after its attempts', async () => {
    const client = new HttpRegistryClient('http://127.0.0.1:1', { attempts: 2, retryDelayMs: 1 });
    await expect(client.schemaById(1)).rejects.toMatchObject({ status: 0, retriable: true });
  });

  it('refuses non-Avro schemas', async () => {
    const { url } = await serve([[200, { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }]]);
    await expect(new HttpRegistryClient(url).schemaById(3)).rejects.toMatchObject({ retriable: false });
  });
});
