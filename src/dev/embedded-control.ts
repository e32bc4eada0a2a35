/**
 * The control endpoint of an embedded Kafka: a small HTTP server on 127.0.0.1 that lets other processes
 * do what only the owning process can (create topics with a partition count, inject faults). Clients find
 * it through the beacon topic (src/kafka/embedded-beacon.ts); `ensureTopics` uses it. Private to src/dev.
 *
 * Routes (JSON in and out; 400 with {"error": message} on bad input):
 *   GET  /                        {incarnation, bootstrapServers, brokerIds}
 *   POST /topics                  {"topics":[{"name":"metrics","partitions":8}]} -> {"topics":[{"name","created"}]}
 *   POST /brokers/<id>/down|up    -> {}
 *   POST /brokers/<id>/rtt        {"ms":200} -> {}
 *   POST /request-errors          {"apiKey":0,"errors":[6,6]} -> {}
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoint drives: the in-process mock. */
export interface ControlTarget {
  readonly bootstrapServers: string;
  readonly brokerIds: readonly number[];
  createTopic(name: string, partitions: number): boolean;
  brokerDown(id: number): void;
  brokerUp(id: number): void;
  setBrokerRtt(id: number, ms: number): void;
  pushRequestErrors(apiKey: number, errors: number[]): void;
}

export interface ControlServer {
  readonly port: number;
  close(): Promise<void>;
}

class BadRequest extends Error {}

const MAX_BODY = 1 << 20;

/** Starts the endpoint on 127.0.0.1 (random port). It does not keep the process alive on its own. */
export async function startControlServer(target: ControlTarget, incarnation: string): Promise<ControlServer> {
  const server = createServer((req, res) => {
    handle(target, incarnation, req)
      .then((body) => reply(res, 200, body))
      .catch((err: Error) => reply(res, err instanceof BadRequest || err.name === 'EmbeddedKafkaError' ? 400 : 500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}

async function handle(target: ControlTarget, incarnation: string, req: IncomingMessage): Promise<unknown> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method === 'GET' && path === '/') {
    return { incarnation, bootstrapServers: target.bootstrapServers, brokerIds: target.brokerIds };
  }
  if (req.method !== 'POST') throw new BadRequest(`unknown route: ${req.method} ${path}`);
  const body = await readJson(req);
  if (path === '/topics') {
    const topics = (body as { topics?: unknown }).topics;
    if (!Array.isArray(topics)) throw new BadRequest('expected {"topics": [{"name": ..., "partitions": ...}]}');
    return {
      topics: topics.map((t: { name?: unknown; partitions?: unknown }) => {
        if (typeof t?.name !== 'string' || typeof t.partitions !== 'number') {
          throw new BadRequest(`bad topic entry ${JSON.stringify(t)}: expected {"name": string, "partitions": number}`);
        }
        return { name: t.name, created: target.createTopic(t.name, t.partitions) };
      }),
    };
  }
  if (path === '/request-errors') {
    const { apiKey, errors } = body as { apiKey?: unknown; errors?: unknown };
    if (typeof apiKey !== 'number' || !Array.isArray(errors)) throw new BadRequest('expected {"apiKey": number, "errors": [number]}');
    target.pushRequestErrors(apiKey, errors as number[]);
    return {};
  }
  const broker = /^\/brokers\/(\d+)\/(down|up|rtt)$/.exec(path);
  if (broker) {
    const id = Number(broker[1]);
    if (broker[2] === 'down') target.brokerDown(id);
    else if (broker[2] === 'up') target.brokerUp(id);
    else {
      const ms = (body as { ms?: unknown }).ms;
      if (typeof ms !== 'number') throw new BadRequest('expected {"ms": number}');
      target.setBrokerRtt(id, ms);
    }
    return {};
  }
  throw new BadRequest(`unknown route: POST ${path}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequest(`request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new BadRequest(`request body is not JSON: ${(err as Error).message}`);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
