/**
 * The one HTTP server of a Vigil process (fastify on VIGIL_HTTP_PORT). Components add their
 * routes with `registerXxxRoutes(app, ...)` before `listen()`; this module owns only what every
 * process serves: `/metrics` (Prometheus text of the shared registry), `/healthz`, the API token
 * check of every request (auth.ts; open when no token is configured, which `listen` logs), and
 * HTTPS when `http.tls` names certificate files (tls.ts).
 */
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { VigilConfig } from '../config/config.js';
import { componentLogger } from '../obs/logger.js';
import { metricsRegistry } from '../obs/metrics.js';
import { registerApiAuth, type ApiAuthOptions } from './auth.js';
import { httpsOptions, refusedClientCertificate, type TlsFiles } from './tls.js';

/** A named readiness check; `/healthz` is 200 only when every check passes. */
export type HealthCheck = () => Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };

export interface HttpServer {
  readonly app: FastifyInstance;
  /** Adds a health check shown on /healthz. */
  addHealthCheck(name: string, check: HealthCheck): void;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** The base URL once listening, e.g. http://127.0.0.1:9464 (https:// with TLS). */
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
  /** Serve HTTPS with these certificate files (config `http.tls`). */
  tls?: TlsFiles;
}

/** The server options a process's config asks for: port (VIGIL_HTTP_PORT), API tokens, TLS. */
export function httpServerOptions(config: VigilConfig, port = config.http.port): HttpServerOptions {
  return { port, auth: config.api, ...(config.http.tls ? { tls: config.http.tls } : {}) };
}

const log = componentLogger('http');

/** Throws TlsConfigError when a certificate file named by `options.tls` cannot be read. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024;
  const https = options.tls ? httpsOptions(options.tls) : undefined;
  // fastify types an HTTPS instance apart; its routes and hooks are the same.
  const app = (https ? Fastify({ logger: false, bodyLimit, https }) : Fastify({ logger: false, bodyLimit })) as unknown as FastifyInstance;
  const checks = new Map<string, HealthCheck>();
  let boundPort: number | null = null;
  if (https?.requestCert && !https.rejectUnauthorized) {
    // VerifyClientCertIfGiven: a certificate that was given must verify.
    app.addHook('onRequest', async (request, reply) => {
      const reason = refusedClientCertificate(request.raw.socket as TLSSocket);
      if (reason) await reply.code(403).send({ status: 'error', errorType: 'forbidden', error: reason });
    });
  }
  // Before every route, so that the check covers all of them.
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

  function baseUrl(): string {
    if (boundPort === null) throw new Error('HTTP server is not listening');
    return `${https ? 'https' : 'http'}://127.0.0.1:${boundPort}`;
  }

  return {
    app,
    addHealthCheck: (name, check) => void checks.set(name, check),
    async listen() {
      await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
      const address = app.server.address();
      boundPort = typeof address === 'object' && address ? address.port : options.port;
      log.info({ url: baseUrl() }, https ? 'serving HTTPS' : 'serving HTTP');
      if (!tokens.enabled) {
        log.warn({ port: boundPort }, 'the HTTP API is open: no API tokens are set (api.tokens, VIGIL_API_TOKENS); anyone who can reach this port can create and expire silences and acknowledge alerts');
      } else {
        const a = options.auth!;
        log.info({ port: boundPort, tokens: a.tokens.length, readTokens: a.readTokens?.length ?? 0, protectReads: a.protectReads ?? false }, 'the HTTP API needs an API token for every change');
      }
      return boundPort;
    },
    url: baseUrl,
    close: () => app.close(),
  };
}
