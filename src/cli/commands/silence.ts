/**
 * `vigil silence add|list|expire`: silences over the notifier's HTTP API (--url, default
 * http://localhost:9464). Matchers are written `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
 * `--token` (default: the first of api.tokens / VIGIL_API_TOKENS) is sent as a bearer token.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { parseDurationMs } from '../../dsl/duration.js';
import { formatMatcher, type Matcher } from '../../sinks/notify/matchers.js';
import { UserError } from '../user-error.js';

/** Default notifier API; the HTTP client below is shared with `vigil ack`. */
export const DEFAULT_NOTIFY_URL = 'http://localhost:9464';

/** The API token a client command sends: `--token`, else the first of the config's api.tokens (VIGIL_API_TOKENS). */
export function apiToken(program: Command, flag: string | undefined): string | undefined {
  return flag ?? loadConfig({ path: program.opts().config }).api.tokens[0];
}

export async function callNotifyApi<T>(base: string, path: string, method = 'GET', body?: unknown, token?: string): Promise<T> {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new UserError(`cannot reach the notifier at ${base}: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`);
  }
  const text = await res.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const e = data as { error?: string };
    throw new UserError(`notifier answered ${res.status}: ${e?.error ?? text}`);
  }
  return data as T;
}

interface SilenceView {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: string };
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

export function parseMatcherArg(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new UserError(`bad matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`);
  let value = m[3]!;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = JSON.parse(value) as string;
  return { name: m[1]!, op: m[2] as Matcher['op'], value };
}

function parseTimeArg(text: string, flag: string): string {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new UserError(`${flag}: expected an RFC 3339 time such as 2026-01-01T12:00:00Z, got "${text}"`);
  return new Date(t).toISOString();
}

interface AddFlags {
  duration?: string;
  start?: string;
  end?: string;
  author?: string;
  comment: string;
  url: string;
  token?: string;
}

async function add(matchers: string[], f: AddFlags, token: string | undefined): Promise<void> {
  const parsed = matchers.map(parseMatcherArg);
  const startsAt = f.start ? parseTimeArg(f.start, '--start') : new Date().toISOString();
  let endsAt: string;
  if (f.end) endsAt = parseTimeArg(f.end, '--end');
  else {
    let ms: number;
    try {
      ms = parseDurationMs(f.duration ?? '1h');
    } catch {
      throw new UserError(`--duration: expected a duration such as 30m, 2h, 1h30m, got "${f.duration}"`);
    }
    endsAt = new Date(Date.parse(startsAt) + ms).toISOString();
  }
  const author = f.author ?? process.env.USER ?? '';
  const r = await callNotifyApi<{ silenceID: string }>(f.url, '/api/v1/silences', 'POST', { matchers: parsed, startsAt, endsAt, createdBy: author, comment: f.comment }, token);
  process.stdout.write(`${r.silenceID}\n`);
}

async function list(f: { url: string; all?: boolean }, token: string | undefined): Promise<void> {
  const silences = await callNotifyApi<SilenceView[]>(f.url, '/api/v1/silences', 'GET', undefined, token);
  const shown = silences.filter((s) => f.all || s.status.state !== 'expired');
  process.stdout.write('ID                                    STATE    ENDS                      CREATED BY  MATCHERS  COMMENT\n');
  for (const s of shown) {
    process.stdout.write(`${s.id}  ${s.status.state.padEnd(7)}  ${s.endsAt.padEnd(24)}  ${s.createdBy.padEnd(10)}  ${s.matchers.map(formatMatcher).join(',')}  ${s.comment}\n`);
  }
}

async function expire(ids: string[], f: { url: string }, token: string | undefined): Promise<void> {
  for (const id of ids) {
    await callNotifyApi(f.url, `/api/v1/silences/${encodeURIComponent(id)}`, 'DELETE', undefined, token);
    process.stdout.write(`expired ${id}\n`);
  }
}

export const TOKEN_HELP = 'API token (default: the first of api.tokens, VIGIL_API_TOKENS)';

export function register(program: Command): void {
  const silence = program.command('silence').description('create, list and expire silences (notifier HTTP API)');
  silence
    .command('add')
    .description('add a silence; prints its id')
    .argument('<matchers...>', 'label matchers: name=value, name!=value, name=~regex, name!~regex')
    .requiredOption('--comment <text>', 'why (required)')
    .option('--author <name>', 'who (default: $USER)')
    .option('--duration <d>', 'how long from the start, e.g. 2h (default 1h)')
    .option('--start <time>', 'RFC 3339 start (default: now)')
    .option('--end <time>', 'RFC 3339 end (instead of --duration)')
    .option('--url <url>', 'notifier API', DEFAULT_NOTIFY_URL)
    .option('--token <token>', TOKEN_HELP)
    .action((matchers: string[], f: AddFlags) => add(matchers, f, apiToken(program, f.token)));
  silence
    .command('list')
    .description('list silences (active and pending; --all for expired too)')
    .option('--all', 'include expired silences')
    .option('--url <url>', 'notifier API', DEFAULT_NOTIFY_URL)
    .option('--token <token>', TOKEN_HELP)
    .action((f: { url: string; all?: boolean; token?: string }) => list(f, apiToken(program, f.token)));
  silence
    .command('expire')
    .description('expire silences now')
    .argument('<ids...>', 'silence ids')
    .option('--url <url>', 'notifier API', DEFAULT_NOTIFY_URL)
    .option('--token <token>', TOKEN_HELP)
    .action((ids: string[], f: { url: string; token?: string }) => expire(ids, f, apiToken(program, f.token)));
}
