/**
 * The `filter` query parameter of Alertmanager's API v2: one matcher per value, in Alertmanager's
 * matcher syntax (`name=value`, `name!="value"`, `name=~"regex"`, `name!~regex`, optionally inside
 * braces), with its two ways of matching:
 *   - alerts and receivers by label (`matchesFilter`, Alertmanager's matchFilterLabels: a matcher with
 *     an empty value is satisfied by an absent label for = and =~, by a present one for != and !~);
 *   - silences by their matchers (`silenceMatchesFilter`: every filter matcher must equal one of the
 *     silence's matchers, name, operator and value).
 */
import { compileMatcher, type CompiledMatcher, type Labels, type MatchOp, type Matcher } from '../matchers.js';

/** A filter that cannot be parsed; the routes answer 400 with its message. */
export class FilterError extends Error {
  readonly code = 'NOTIFY_FILTER_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

// Alertmanager's pkg/labels ParseMatcher: '=~' before '=' so that '~' is not read as the value.
const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

/** Unquotes a matcher value: optional surrounding double quotes, `\"`, `\\` and `\n` escapes. */
function unquote(raw: string, whole: string): string {
  let s = raw;
  const quoted = s.startsWith('"');
  if (quoted) s = s.slice(1);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i < s.length - 1) {
      const next = s[++i]!;
      out += next === 'n' ? '\n' : next === '"' || next === '\\' ? next : `\\${next}`;
    } else if (c === '"') {
      if (!quoted || i < s.length - 1) throw new FilterError(`matcher value contains unescaped double quote: ${whole}`);
      return out;
    } else {
      out += c;
    }
  }
  if (quoted) throw new FilterError(`matcher value contains unescaped double quote: ${whole}`);
  return out;
}

/** Parses one filter value. Throws FilterError for text that is not a matcher or a bad regex. */
export function parseFilterMatcher(text: string): CompiledMatcher {
  const inner = text.trim().replace(/^\{\s*/, '').replace(/\s*\}$/, '');
  const m = MATCHER.exec(inner);
  if (!m) throw new FilterError(`bad matcher format: ${text}`);
  const matcher: Matcher = { name: m[1]!, op: m[2] as MatchOp, value: unquote(m[3]!, text) };
  try {
    return compileMatcher(matcher);
  } catch (err) {
    throw new FilterError((err as Error).message);
  }
}

export function parseFilters(values: readonly string[]): CompiledMatcher[] {
  return values.map(parseFilterMatcher);
}

/** Alertmanager's matchFilterLabels: true when every matcher accepts these labels. */
export function matchesFilter(filters: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const f of filters) {
    const present = Object.prototype.hasOwnProperty.call(labels, f.name);
    const negative = f.op === '!=' || f.op === '!~';
    if (f.value === '' && present === negative) continue;
    if (!f.matches(labels)) return false;
  }
  return true;
}

/** True when every filter matcher is one of the silence's matchers (same name, operator and value). */
export function silenceMatchesFilter(silenceMatchers: readonly Matcher[], filters: readonly Matcher[]): boolean {
  return filters.every((f) => silenceMatchers.some((m) => m.name === f.name && m.op === f.op && m.value === f.value));
}

/** A matcher in Alertmanager's syntax, the value quoted (`name=~"a\"b"`): what its parser reads back. */
export function formatAlertmanagerMatcher(m: Matcher): string {
  return `${m.name}${m.op}"${m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
