/**
 * Who may do what on the HTTP API and UI: bearer tokens from `api.tokens` (VIGIL_API_TOKENS, may do
 * everything) and `api.readTokens` (may only read). Without any token the API is open.
 *
 * Every request has an access level: `public` (never needs a token: `api.openPaths`, by default
 * /metrics and /healthz, the UI's static files, /api/v1/auth, the push endpoints with their own
 * tokens), `read` (GET/HEAD/OPTIONS, and the Prometheus API's POST forms of reads such as
 * /api/v1/query) or `write` (everything else: silences, acks, rule pushes, ...). A route can declare
 * its level with fastify's route config: `app.post(path, { config: { access: 'read' } }, handler)`.
 *
 * Writes need an admin token; reads need one only with `api.protectReads`. A request that needs a
 * token and has none gets 401 with `WWW-Authenticate: Bearer`; a token that is not valid, or a
 * read-only token on a write, gets 403. A presented token is always checked (except on public
 * paths), so a wrong one is refused at once rather than on the first write.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { counter } from '../obs/metrics.js';

export type Access = 'public' | 'read' | 'write';
export type Role = 'admin' | 'read';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How the route is protected (default: by method, see auth.ts). */
    access?: Access;
  }
}

export interface ApiAuthOptions {
  /** Tokens that may do everything. */
  readonly tokens: readonly string[];
  /** Tokens that may only read. */
  readonly readTokens?: readonly string[];
  /** Reads need a token too. */
  readonly protectReads?: boolean;
  /** Paths (exact, without the query string) that never need a token. */
  readonly openPaths?: readonly string[];
}

/** What a client asks to learn how to authenticate (the UI reads it). Always public. */
export const AUTH_INFO_PATH = '/api/v1/auth';

/** The push endpoints (src/collect/push) authenticate with push.tokens (VIGIL_PUSH_TOKENS) themselves. */
const OWN_AUTH_PATHS = new Set(['/write', '/api/v1/write', '/api/v2/write']);

/** Prometheus API endpoints whose POST form is a read (form-encoded parameters instead of a query string). */
const READ_POSTS = new Set([
  '/api/v1/query',
  '/api/v1/query_range',
  '/api/v1/query_exemplars',
  '/api/v1/series',
  '/api/v1/labels',
  '/api/v1/format_query',
  '/api/v1/parse_query',
]);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const denied = counter('vigil_http_auth_denied_total', 'HTTP requests refused for want of a valid API token', ['status']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The accepted tokens and their roles; compares in constant time per token. */
export class ApiTokens {
  private readonly entries: { digest: Buffer; role: Role }[];

  constructor(tokens: readonly string[], readTokens: readonly string[] = []) {
    this.entries = [...tokens.map((t) => ({ digest: digest(t), role: 'admin' as Role })), ...readTokens.map((t) => ({ digest: digest(t), role: 'read' as Role }))];
  }

  /** False when no token is configured: the API is open. */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The role of a token, or undefined when it is not one of ours. Admin wins when a token is in both lists. */
  roleOf(token: string): Role | undefined {
    const d = digest(token);
    let role: Role | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && role !== 'admin') role = e.role;
    }
    return role;
  }
}

/**
 * The credential of an `Authorization` header: `Bearer <t>`, or `Basic` with the token as the
 * password (for clients that only offer basic auth, e.g. some Grafana data sources). A header of
 * another form is returned whole, so it is refused like a wrong token rather than ignored.
 */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const m = /^\s*(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return authorization;
  if (m[1]!.toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : decoded;
}

/** The access level of a request (see the module comment). */
export function accessOf(method: string, path: string, routeAccess: Access | undefined, openPaths: ReadonlySet<string>): Access {
  if (routeAccess) return routeAccess;
  if (path === AUTH_INFO_PATH || openPaths.has(path) || OWN_AUTH_PATHS.has(path)) return 'public';
  if (READ_METHODS.has(method) || (method === 'POST' && READ_POSTS.has(path))) return 'read';
  return 'write';
}

/** Who the request is, by its credential: a role, `none` (no credential) or `invalid`. */
export type Caller = Role | 'none' | 'invalid';

export type Decision = { ok: true } | { ok: false; status: 401 | 403; message: string };

const TOKEN_HINT = 'api.tokens or VIGIL_API_TOKENS';

/** Whether a caller may make a request of this access level. Pure: the policy in one place. */
export function authorize(access: Access, caller: Caller, protectReads: boolean): Decision {
  if (access === 'public') return { ok: true };
  if (caller === 'invalid') return { ok: false, status: 403, message: 'the API token is not valid' };
  if (caller === 'admin') return { ok: true };
  if (caller === 'read') {
    if (access === 'read') return { ok: true };
    return { ok: false, status: 403, message: `this API token may only read; changing state needs one of the tokens of ${TOKEN_HINT}` };
  }
  if (access === 'read' && !protectReads) return { ok: true };
  const what = access === 'write' ? 'this request changes state and needs' : 'this server needs';
  return { ok: false, status: 401, message: `${what} an API token: send "Authorization: Bearer <token>" (tokens are set in ${TOKEN_HINT})` };
}

function callerOf(request: FastifyRequest, tokens: ApiTokens): Caller {
  const token = presentedToken(request.headers.authorization);
  if (token === undefined) return 'none';
  return tokens.roleOf(token) ?? 'invalid';
}

/** What the UI and clients learn at AUTH_INFO_PATH. */
export interface AuthInfo {
  /** `open`: no tokens configured, anyone may do anything. */
  readonly mode: 'open' | 'tokens';
  readonly protectReads: boolean;
  /** What the presented credential is. */
  readonly caller: Caller;
}

/**
 * Adds the token check to every request of `app` (an onRequest hook on the root context, so it also
 * covers routes registered later and the 404 handler) and serves AUTH_INFO_PATH.
 */
export function registerApiAuth(app: FastifyInstance, options: ApiAuthOptions): ApiTokens {
  const tokens = new ApiTokens(options.tokens, options.readTokens);
  const protectReads = options.protectReads ?? false;
  const openPaths = new Set(options.openPaths ?? ['/metrics', '/healthz']);
  app.addHook('onRequest', async (request, reply) => {
    if (!tokens.enabled) return;
    const path = request.url.split('?', 1)[0]!;
    const access = accessOf(request.method, path, request.routeOptions.config?.access, openPaths);
    const decision = authorize(access, access === 'public' ? 'none' : callerOf(request, tokens), protectReads);
    if (decision.ok) return;
    denied.inc({ status: String(decision.status) });
    if (decision.status === 401) reply.header('www-authenticate', 'Bearer realm="vigil"');
    await reply.code(decision.status).send({ status: 'error', errorType: decision.status === 401 ? 'unauthorized' : 'forbidden', error: decision.message });
  });
  app.get(AUTH_INFO_PATH, async (request): Promise<AuthInfo> => ({
    mode: tokens.enabled ? 'tokens' : 'open',
    protectReads: tokens.enabled && protectReads,
    caller: tokens.enabled ? callerOf(request, tokens) : 'none',
  }));
  return tokens;
}
