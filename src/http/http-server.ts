/**
 * The one HTTP server of a Vigil process (fastify on VIGIL_HTTP_PORT). Components add their
 * routes with `registerXxxRoutes(app, ...)` before `listen()`; this module owns only what every
 * process serves: `/metrics` (Prometheus text of the shared registry), `/healthz`, and the API
 * token check of every request (auth.ts; open when no token is configured, which `listen` logs).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { VigilConfig } from '../config/config.js';
import { componentLogger } from '../obs/logger.js';
import { metricsRegistry } from '../obs/metrics.js';
import { registerApiAuth, type ApiAuthOptions } from './auth.js';

/** A named readiness check; `/healthz` is 200 only when every check passes. */
export type HealthCheck = () => Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };

export interface HttpServer {
  readonly app: FastifyInstance;
  /** Adds a health check shown on /healthz. */
  addHealthCheck(name: string, check: HealthCheck): void;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** The base URL once listening, e.g. http://127.0.0.1:9464. */
  url(): string;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  /** Largest request body in bytes (push bodies may be large). */
  bodyLimit?: number;
  /** API tokens (config `api`); absent or without tokens = open. */
  auth?: ApiAuthOptions;
}

/** The server options a process's config asks for: port (VIGIL_HTTP_PORT), API tokens. */
export function httpServerOptions(config: VigilConfig, port = config.http.port): HttpServerOptions {
  return { port, auth: config.api };
}

const log = componentLogger('http');

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 10 * 1024 * 1024 });
  const checks = new Map<string, HealthCheck>();
  let boundPort: number | null = null;
  // First, so that the check runs before every route registered after it.
  const tokens = registerApiAuth(app, options.auth ?? { tokens: [] });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metricsRegistry.contentType);
    return metricsRegistry.metrics();
  });

  app.get('/healthz', async (_request, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
    for (const [name, check] of checks) {
      try {
        results[name] = await check();
      } catch (err) {
        results[name] = { ok: false, detail: (err as Error).message };
      }
    }
    const ok = Object.values(results).every((r) => r.ok);
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unhealthy', checks: results };
  });

  return {
    app,
    addHealthCheck: (name, check) => void checks.set(name, check),
    async listen() {
      await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
      const address = app.server.address();
      boundPort = typeof address === 'object' && address ? address.port : options.port;
      if (!tokens.enabled) {
        log.warn({ port: boundPort }, 'the HTTP API is open: no API tokens are set (api.tokens, VIGIL_API_TOKENS); anyone who can reach this port can create and expire silences and acknowledge alerts');
      } else {
        const a = options.auth!;
        log.info({ port: boundPort, tokens: a.tokens.length, readTokens: a.readTokens?.length ?? 0, protectReads: a.protectReads ?? false }, 'the HTTP API needs an API token for every change');
      }
      return boundPort;
    },
    url() {
      if (boundPort === null) throw new Error('HTTP server is not listening');
      return `http://127.0.0.1:${boundPort}`;
    },
    close: () => app.close(),
  };
}
