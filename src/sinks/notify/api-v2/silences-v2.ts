/**
 * Silences in Alertmanager's API v2 shapes (api/v2/openapi.yaml `gettableSilence`,
 * `postableSilence`) with its behaviour (api/v2/api.go, silence/silence.go):
 *   - a list sorted active (next to end first), pending (next to start first), expired (latest first),
 *     filtered by `filter` matchers and the `active`/`pending`/`expired` flags;
 *   - POST without an id creates a silence (a start in the past becomes now); with an unknown id is
 *     404; with a known id updates it in place when Alertmanager would (same matchers, and: pending,
 *     starting now or later; or active, same start and ending now or later), otherwise creates a new
 *     silence and expires the old one (the answer names the new id);
 *   - DELETE expires.
 * They are the notifier's one set of silences (the `silences` topic), as `vigil silence` and /api/v1.
 */
import type { Matcher } from '../matchers.js';
import type { NotifyApiDeps } from '../notify-http.js';
import { parseSilenceRequest, silenceState, type Silence, type SilenceState } from '../silences.js';
import { silenceMatchesFilter } from './filter-matchers.js';
import { commitSilence, expireSilence } from './silence-writes.js';

/** An answer other than 200, with Alertmanager's string payload. */
export class ApiV2Error extends Error {
  constructor(
    readonly status: 400 | 404 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'ApiV2Error';
  }
}

export interface V2Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface GettableSilence {
  id: string;
  status: { state: SilenceState };
  updatedAt: string;
  matchers: V2Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  annotations: Record<string, string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function v2Matcher(m: Matcher): V2Matcher {
  return { name: m.name, value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~' };
}

export function gettableSilence(s: Silence, now: number): GettableSilence {
  return {
    id: s.id,
    status: { state: silenceState(s, now) },
    updatedAt: iso(s.updatedAt),
    matchers: s.matchers.map(v2Matcher),
    startsAt: iso(s.startsAt),
    endsAt: iso(s.endsAt),
    createdBy: s.createdBy,
    comment: s.comment,
    // Vigil keeps no silence annotations (a POST with some is refused).
    annotations: {},
  };
}

const STATE_ORDER: Record<SilenceState, number> = { active: 1, pending: 2, expired: 3 };

/** Alertmanager's SortSilences. */
function compareSilences(a: GettableSilence, b: GettableSilence): number {
  const sa = a.status.state;
  const sb = b.status.state;
  if (sa !== sb) return STATE_ORDER[sa] - STATE_ORDER[sb];
  const t = (x: string) => Date.parse(x);
  if (sa === 'active') return t(a.endsAt) - t(b.endsAt);
  if (sa === 'pending') return t(a.startsAt) - t(b.startsAt);
  return t(b.endsAt) - t(a.endsAt);
}

export interface SilenceQuery {
  readonly filters: readonly Matcher[];
  readonly states: ReadonlySet<SilenceState>;
}

export function listSilences(d: NotifyApiDeps, q: SilenceQuery, now: number): GettableSilence[] {
  return d.core.silences
    .list()
    .filter((s) => q.states.has(silenceState(s, now)) && silenceMatchesFilter(s.matchers, q.filters))
    .map((s) => gettableSilence(s, now))
    .sort(compareSilences);
}

export function getSilence(d: NotifyApiDeps, id: string, now: number): GettableSilence {
  const s = d.core.silences.get(id);
  if (!s) throw new ApiV2Error(404, `silence "${id}" not found`);
  return gettableSilence(s, now);
}

const sameMatchers = (a: readonly Matcher[], b: readonly Matcher[]) =>
  a.length === b.length && a.every((m, i) => m.name === b[i]!.name && m.op === b[i]!.op && m.value === b[i]!.value);

/** Alertmanager's canUpdate: whether `next` may replace `prev` in place at `now`. */
export function canUpdateInPlace(prev: Silence, next: Silence, now: number): boolean {
  if (!sameMatchers(prev.matchers, next.matchers)) return false;
  const state = silenceState(prev, now);
  if (state === 'active') return Math.floor(prev.startsAt / 1000) === Math.floor(next.startsAt / 1000) && next.endsAt >= now;
  if (state === 'pending') return next.startsAt >= now;
  return false;
}

function parse(body: unknown, now: number, existing?: Silence): Silence {
  try {
    return parseSilenceRequest(body, now, existing);
  } catch (err) {
    throw new ApiV2Error(400, (err as Error).message);
  }
}

/** POST /api/v2/silences: creates, updates or replaces; resolves with the id of the silence now in force. */
export async function postSilence(d: NotifyApiDeps, body: unknown, now: number): Promise<{ silenceID: string }> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (b.annotations !== undefined && (typeof b.annotations !== 'object' || b.annotations === null || Object.keys(b.annotations).length > 0)) {
    throw new ApiV2Error(400, '"annotations": silence annotations are not supported by Vigil');
  }
  const id = b.id === undefined || b.id === '' ? undefined : b.id;
  if (id !== undefined && typeof id !== 'string') throw new ApiV2Error(400, '"id": expected a string');
  const prev = id === undefined ? undefined : d.core.silences.get(id);
  if (id !== undefined && !prev) throw new ApiV2Error(404, `silence "${id}" not found`);
  if (prev) {
    const updated = parse(body, now, prev);
    if (canUpdateInPlace(prev, updated, now)) {
      await commitSilence(d, updated, now);
      return { silenceID: prev.id };
    }
  }
  const parsed = parse(body, now);
  const created: Silence = { ...parsed, startsAt: Math.max(parsed.startsAt, now) };
  if (prev) await expireSilence(d, prev, now);
  await commitSilence(d, created, now);
  return { silenceID: created.id };
}

/** DELETE /api/v2/silence/{id}. */
export async function deleteSilence(d: NotifyApiDeps, id: string, now: number): Promise<void> {
  const s = d.core.silences.get(id);
  if (!s) throw new ApiV2Error(404, `silence "${id}" not found`);
  await expireSilence(d, s, now);
}
