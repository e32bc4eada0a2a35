/**
 * The embedded schema registry: the Confluent Schema Registry REST API subset that
 * @kafkajs/confluent-schema-registry and the usual tools call (../shared/reference/interop.md §1),
 * Avro only, state kept in a log (the `_schemas` topic).
 *
 * Endpoints: GET /schemas/ids/{id}[/schema]; GET /subjects; GET /subjects/{s}/versions;
 * GET /subjects/{s}/versions/{v}[/schema] (v = n | latest | -1); POST /subjects/{s}/versions (register);
 * POST /subjects/{s} (lookup); POST /compatibility/subjects/{s}/versions/{v}; GET|PUT /config;
 * GET|PUT|DELETE /config/{s}; DELETE /subjects/{s}[/versions/{v}][?permanent=true]; GET /schemas/ids/{id}/versions
 * and /subjects; GET /mode. Errors are `{"error_code", "message"}` with Confluent codes.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { componentLogger } from '../obs/logger.js';
import { KafkaSchemaLog } from './kafka-schema-log.js';
import { RegistryError, storeError } from './registry-error.js';
import type { SchemaLog, SchemaLogRecord } from './schema-log.js';
import { SchemaStore, type SchemaRequest } from './schema-store.js';

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface SchemaRegistryOptions {
  /** Kafka bootstrap servers (string list or comma-separated). Ignored when `log` is given. */
  brokers?: string[] | string;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Host to bind (default 127.0.0.1). */
  host?: string;
  /** Topic holding the schemas (default `_schemas`). */
  topic?: string;
  /** Storage to use instead of Kafka (tests). */
  log?: SchemaLog;
}

/** A running registry. `close()` stops the HTTP server and the log reader; idempotent. */
export interface SchemaRegistry {
  /** Base URL, e.g. `http://127.0.0.1:38081` (what SCHEMA_REGISTRY_URL takes). */
  readonly url: string;
  close(): Promise<void>;
}

const log = componentLogger('schema-registry');

/** Starts the registry: reads the log to its end, then listens. */
export async function startSchemaRegistry(options: SchemaRegistryOptions): Promise<SchemaRegistry> {
  const schemaLog = options.log ?? kafkaLog(options);
  const store = new SchemaStore();
  try {
    await schemaLog.start((record) => store.apply(record));
  } catch (err) {
    await schemaLog.close().catch(() => undefined);
    throw err;
  }
  const app = buildApp(store, schemaLog);
  let address: string;
  try {
    address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  } catch (err) {
    await schemaLog.close();
    throw err;
  }
  log.info({ url: address }, 'schema registry started');
  let closed: Promise<void> | undefined;
  return {
    url: address,
    close: () => (closed ??= app.close().then(() => schemaLog.close())),
  };
}

function kafkaLog(options: SchemaRegistryOptions): SchemaLog {
  if (!options.brokers || options.brokers.length === 0) throw new TypeError('startSchemaRegistry needs brokers or a log');
  return new KafkaSchemaLog({ brokers: options.brokers, topic: options.topic });
}

/** The fastify app over a store and its log (exported for tests with `app.inject`). */
export function buildApp(store: SchemaStore, schemaLog: SchemaLog): FastifyInstance {
  const app = Fastify({ logger: false });
  let writes: Promise<unknown> = Promise.resolve();
  /** Writes one at a time, after catching up with the log, so ids and versions never collide. */
  const write = <T>(plan: () => { result: T; record?: SchemaLogRecord | null; records?: SchemaLogRecord[] }): Promise<T> => {
    const next = writes.then(async () => {
      try {
        await schemaLog.catchUp();
      } catch (err) {
        throw storeError((err as Error).message);
      }
      const { result, record, records = record ? [record] : [] } = plan();
      for (const r of records) {
        try {
          await schemaLog.append(r);
        } catch (err) {
          throw storeError((err as Error).message);
        }
        store.apply(r);
      }
      return result;
    });
    writes = next.catch(() => undefined);
    return next;
  };

  /**
   * Answers from the store; on a 404, catches up with the log once and retries, so an id or version
   * another registry on the same cluster just wrote is found.
   */
  const read = async <T>(answer: () => T): Promise<T> => {
    try {
      return answer();
    } catch (err) {
      if (!(err instanceof RegistryError) || err.status !== 404) throw err;
      // If the log cannot be read right now, the answer from memory stands.
      const caughtUp = await schemaLog.catchUp().then(() => true, () => false);
      if (!caughtUp) throw err;
      return answer();
    }
  };

  // Clients send application/vnd.schemaregistry.v1+json (or +json, or application/json): all JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new RegistryError(400, 400, `Unrecognized JSON body: ${(err as Error).message}`), undefined);
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (typeof payload === 'string') reply.header('content-type', REGISTRY_CONTENT_TYPE);
    return payload;
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof RegistryError) return sendError(reply, err);
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) log.error({ err }, 'schema registry request failed');
    return sendError(reply, new RegistryError(status, status >= 500 ? 50001 : status, (err as Error).message));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new RegistryError(404, 404, `HTTP 404 Not Found: ${req.url}`)));

  type P = { id: string; subject: string; version: string };
  app.get('/', async () => ({}));
  app.get<{ Params: P }>('/schemas/ids/:id', async (req) => read(() => ({ schema: store.schemaById(schemaId(req.params.id)).schema })));
  app.get<{ Params: P }>('/schemas/ids/:id/schema', async (req) => read(() => JSON.parse(store.schemaById(schemaId(req.params.id)).schema)));
  app.get<{ Params: P }>('/schemas/ids/:id/versions', async (req) => read(() => store.usesOf(schemaId(req.params.id))));
  app.get<{ Params: P }>('/schemas/ids/:id/subjects', async (req) =>
    read(() => [...new Set(store.usesOf(schemaId(req.params.id)).map((u) => u.subject))]),
  );
  app.get('/schemas/types', async () => ['AVRO']);
  app.get('/mode', async () => ({ mode: 'READWRITE' }));
  app.get<{ Querystring: { deleted?: string } }>('/subjects', async (req) => store.subjectNames(req.query.deleted === 'true'));
  app.delete<{ Params: P; Querystring: { permanent?: string } }>('/subjects/:subject', async (req) =>
    write(() => store.planDeleteSubject(req.params.subject, req.query.permanent === 'true')),
  );
  app.delete<{ Params: P; Querystring: { permanent?: string } }>('/subjects/:subject/versions/:version', async (req) =>
    write(() => store.planDeleteVersion(req.params.subject, req.params.version, req.query.permanent === 'true')),
  );
  app.get<{ Params: P }>('/subjects/:subject/versions', async (req) => read(() => store.versions(req.params.subject)));
  app.get<{ Params: P }>('/subjects/:subject/versions/:version', async (req) => read(() => store.version(req.params.subject, req.params.version)));
  app.get<{ Params: P }>('/subjects/:subject/versions/:version/schema', async (req) =>
    JSON.parse(store.version(req.params.subject, req.params.version).schema),
  );
  app.post<{ Params: P; Body: SchemaRequest }>('/subjects/:subject/versions', async (req) =>
    write(() => {
      const plan = store.planRegister(req.params.subject, req.body);
      return { result: { id: plan.id }, record: plan.record };
    }),
  );
  app.post<{ Params: P; Body: SchemaRequest }>('/subjects/:subject', async (req) => {
    await schemaLog.catchUp();
    return store.lookup(req.params.subject, req.body);
  });
  app.post<{ Params: P; Body: SchemaRequest; Querystring: { verbose?: string } }>(
    '/compatibility/subjects/:subject/versions/:version',
    async (req) => {
      const problems = store.checkCompatibility(req.params.subject, req.params.version, req.body);
      return req.query.verbose === 'true'
        ? { is_compatible: problems.length === 0, messages: problems }
        : { is_compatible: problems.length === 0 };
    },
  );
  app.get('/config', async () => ({ compatibilityLevel: store.level(null) }));
  app.put<{ Body: unknown }>('/config', async (req) =>
    write(() => {
      const plan = store.planConfig(null, req.body);
      return { result: { compatibility: plan.level }, record: plan.record };
    }),
  );
  app.get<{ Params: P; Querystring: { defaultToGlobal?: string } }>('/config/:subject', async (req) => ({
    compatibilityLevel:
      req.query.defaultToGlobal === 'true' ? store.level(req.params.subject) : store.subjectLevel(req.params.subject),
  }));
  app.put<{ Params: P; Body: unknown }>('/config/:subject', async (req) =>
    write(() => {
      const plan = store.planConfig(req.params.subject, req.body);
      return { result: { compatibility: plan.level }, record: plan.record };
    }),
  );
  app.delete<{ Params: P }>('/config/:subject', async (req) =>
    write(() => {
      const plan = store.planDeleteConfig(req.params.subject);
      return { result: { compatibilityLevel: plan.level }, record: plan.record };
    }),
  );
  return app;
}

function schemaId(text: string): number {
  const id = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(id)) throw new RegistryError(404, 40403, `Schema ${text} not found`);
  return id;
}

function sendError(reply: FastifyReply, err: RegistryError): FastifyReply {
  return reply.code(err.status).type(REGISTRY_CONTENT_TYPE).send({ error_code: err.code, message: err.message });
}
