/**
 * Silences are data made at runtime: matchers, start, end, author, comment. A silence mutes the
 * alerts it matches while `startsAt <= now < endsAt`. The store also reports which silences started
 * and ended since the last poll, for the notices and re-notifications Alertmanager users ask for.
 */
import { randomUUID } from 'node:crypto';
import { RequestValidationError } from './errors.js';
import { compileMatchers, isMatchOp, matchesAll, type CompiledMatcher, type Labels, type Matcher } from './matchers.js';

export interface Silence {
  readonly id: string;
  readonly matchers: readonly Matcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
  readonly updatedAt: number;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export function silenceState(s: Silence, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseTime(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new RequestValidationError(field, 'expected an RFC 3339 time or milliseconds since the epoch');
}

function parseMatcher(raw: unknown, field: string): Matcher {
  if (typeof raw !== 'object' || raw === null) throw new RequestValidationError(field, 'expected an object');
  const m = raw as Record<string, unknown>;
  if (typeof m.name !== 'string' || !LABEL_NAME.test(m.name)) {
    throw new RequestValidationError(`${field}.name`, 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)');
  }
  if (typeof m.value !== 'string') throw new RequestValidationError(`${field}.value`, 'expected a string');
  let op: unknown = m.op;
  if (op === undefined) {
    // Alertmanager's API v2 shape: isRegex / isEqual.
    const regex = m.isRegex === true;
    const equal = m.isEqual !== false;
    op = regex ? (equal ? '=~' : '!~') : equal ? '=' : '!=';
  }
  if (!isMatchOp(op)) throw new RequestValidationError(`${field}.op`, 'expected one of =, !=, =~, !~');
  const matcher = { name: m.name, op, value: m.value };
  try {
    compileMatchers([matcher]);
  } catch (err) {
    throw new RequestValidationError(`${field}.value`, (err as Error).message);
  }
  return matcher;
}

/**
 * Validates a create/update request body (Alertmanager API v2 fields, or `op` matchers).
 * `existing` is the silence being updated. Throws RequestValidationError naming the field.
 */
export function parseSilenceRequest(body: unknown, now: number, existing?: Silence): Silence {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestValidationError('body', 'expected a JSON object');
  }
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.matchers) || b.matchers.length === 0) {
    throw new RequestValidationError('matchers', 'expected a non-empty list of matchers');
  }
  const matchers = b.matchers.map((m, i) => parseMatcher(m, `matchers[${i}]`));
  const compiled = compileMatchers(matchers);
  if (compiled.every((m) => m.matches({}))) {
    throw new RequestValidationError('matchers', 'at least one matcher must not match the empty label set');
  }
  const startsAt = b.startsAt === undefined ? (existing?.startsAt ?? now) : parseTime(b.startsAt, 'startsAt');
  if (b.endsAt === undefined) throw new RequestValidationError('endsAt', 'is required');
  const endsAt = parseTime(b.endsAt, 'endsAt');
  if (endsAt <= startsAt) throw new RequestValidationError('endsAt', 'must be after startsAt');
  if (endsAt <= now) throw new RequestValidationError('endsAt', 'must be in the future');
  if (typeof b.createdBy !== 'string' || b.createdBy.trim() === '') {
    throw new RequestValidationError('createdBy', 'expected a non-empty string (the author)');
  }
  if (typeof b.comment !== 'string' || b.comment.trim() === '') {
    throw new RequestValidationError('comment', 'expected a non-empty string');
  }
  return {
    id: existing?.id ?? randomUUID(),
    matchers,
    startsAt,
    endsAt,
    createdBy: b.createdBy,
    comment: b.comment,
    updatedAt: now,
  };
}

interface Entry {
  silence: Silence;
  compiled: CompiledMatcher[];
  /** State at the last poll: what notices were already given. */
  seen: SilenceState;
}

export class SilenceStore {
  private readonly entries = new Map<string, Entry>();

  /** Adds or replaces a silence. `announced` marks it as already reported (history replay). */
  upsert(s: Silence, now: number, announced = false): void {
    const prev = this.entries.get(s.id);
    const seen = announced ? silenceState(s, now) : (prev?.seen ?? 'pending');
    this.entries.set(s.id, { silence: s, compiled: compileMatchers(s.matchers), seen });
  }

  get(id: string): Silence | undefined {
    return this.entries.get(id)?.silence;
  }

  list(): Silence[] {
    return [...this.entries.values()].map((e) => e.silence);
  }

  /** Ids of the silences muting these labels at `now`. */
  mutedBy(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) {
      if (silenceState(e.silence, now) === 'active' && matchesAll(e.compiled, labels)) out.push(e.silence.id);
    }
    return out;
  }

  matches(id: string, labels: Labels): boolean {
    const e = this.entries.get(id);
    return e !== undefined && matchesAll(e.compiled, labels);
  }

  /** Silences that became active, and that ended, since the last poll. */
  poll(now: number): { started: Silence[]; ended: Silence[] } {
    const started: Silence[] = [];
    const ended: Silence[] = [];
    for (const e of this.entries.values()) {
      const state = silenceState(e.silence, now);
      if (state === e.seen) continue;
      if (state === 'active') started.push(e.silence);
      if (state === 'expired' && e.seen === 'active') ended.push(e.silence);
      e.seen = state;
    }
    return { started, ended };
  }

  /** The next time a silence starts or ends after `now` (to wake the timer). */
  nextChange(now: number): number | undefined {
    let next: number | undefined;
    for (const { silence: s, seen } of this.entries.values()) {
      // A change not yet reported by `poll` (e.g. a silence created a moment ago) is due now.
      if (silenceState(s, now) !== seen) return now;
      for (const t of [s.startsAt, s.endsAt]) if (t > now && (next === undefined || t < next)) next = t;
    }
    return next;
  }
}
