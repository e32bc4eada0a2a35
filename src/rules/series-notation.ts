/**
 * promtool's input notation for `vigil rules test`:
 * series `name{l="v", ...}` and values `a+bxn` (n+1 values a, a+b, ..., a+n*b), `a-bxn`, `axn`
 * (n+1 times a), `_` (one missing sample), `_xn` (n missing), plain numbers, `stale` (missing).
 */

export class NotationError extends Error {
  readonly code = 'BAD_NOTATION';
}

/** Parses `name{a="1", b="2"}` (label values with \" \\ \n escapes). */
export function parseSeries(text: string): { name: string; labels: Record<string, string> } {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:.]*)\s*(\{(.*)\})?\s*$/s.exec(text);
  if (!m) throw new NotationError(`invalid series ${JSON.stringify(text)}: expected name{label="value", ...}`);
  const labels: Record<string, string> = {};
  const body = m[3] ?? '';
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:\\.|[^"\\])*)"\s*(,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    if (/^\s*$/.test(body.slice(pos))) break;
    re.lastIndex = pos;
    const lm = re.exec(body);
    if (!lm) throw new NotationError(`invalid labels in series ${JSON.stringify(text)} near ${JSON.stringify(body.slice(pos))}`);
    labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    pos = re.lastIndex;
  }
  return { name: m[1]!, labels };
}

const NUM = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN`;
const EXPAND = new RegExp(`^(${NUM})(?:([+-])(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?))?x(\\d+)$`);

function num(s: string): number {
  if (/^[+]?Inf$/.test(s)) return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** Expands a values string into numbers, `null` = missing sample. */
export function parseValues(text: string): (number | null)[] {
  const out: (number | null)[] = [];
  for (const tok of String(text).trim().split(/\s+/).filter(Boolean)) {
    if (tok === '_' || tok === 'stale') {
      out.push(null);
      continue;
    }
    const miss = /^_x(\d+)$/.exec(tok);
    if (miss) {
      for (let i = 0; i < Number(miss[1]); i++) out.push(null);
      continue;
    }
    const m = EXPAND.exec(tok);
    if (m) {
      const a = num(m[1]!);
      const b = m[2] ? (m[2] === '-' ? -1 : 1) * Number(m[3]) : 0;
      const n = Number(m[4]);
      // Sum in decimal-friendly steps: a + i*b, rounded to 12 significant digits against float drift.
      for (let i = 0; i <= n; i++) out.push(Number((a + i * b).toPrecision(12)));
      continue;
    }
    if (new RegExp(`^(${NUM})$`).test(tok)) {
      out.push(num(tok));
      continue;
    }
    throw new NotationError(`invalid value ${JSON.stringify(tok)}: expected a number, a+bxn, a-bxn, axn, _ or _xn`);
  }
  return out;
}
