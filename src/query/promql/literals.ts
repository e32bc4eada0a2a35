/**
 * PromQL literals as Prometheus reads them: numbers (Go's strconv.ParseFloat/ParseInt forms, hex,
 * Inf/NaN, and durations meaning seconds), durations (model.ParseDuration: y w d h m s ms, y = 365 d)
 * and string literals (Go's strconv.Unquote: "...", '...' with escapes, `...` raw).
 */

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** A duration such as `1h30m` in ms; null when it is not one. */
export function parseDurationMs(text: string): number | null {
  if (text === '') return null;
  const m = DURATION.exec(text);
  if (!m) return null;
  let ms = 0;
  for (let i = 1; i <= 7; i++) if (m[i] !== undefined) ms += Number(m[i]) * UNIT_MS[i - 1]!;
  return ms;
}

/** A number literal (the sign included); null when it is not one. */
export function parseNumber(text: string): number | null {
  let t = text.trim();
  let sign = 1;
  if (t.startsWith('-') || t.startsWith('+')) {
    if (t.startsWith('-')) sign = -1;
    t = t.slice(1).trimStart();
  }
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/i.test(t)) return sign * parseInt(t.slice(2), 16);
  const clean = t.replace(/_/g, '');
  if (/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(clean)) return sign * Number(clean);
  const ms = parseDurationMs(t);
  return ms === null ? null : (sign * ms) / 1000;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** The value of a quoted string literal; throws Error with Go's reason when it is malformed. */
export function unquote(text: string): string {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) throw new Error('invalid syntax');
  const body = text.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body;
  }
  if (quote !== '"' && quote !== "'") throw new Error('invalid syntax');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === quote || c === '\n') throw new Error('invalid syntax');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new Error('invalid syntax');
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === quote) out += e;
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Error('invalid syntax');
      const code = parseInt(hex, 16);
      if (e !== 'x' && (code > 0x10ffff || (code >= 0xd800 && code < 0xe000))) throw new Error('invalid syntax');
      out += String.fromCodePoint(code);
      i += n;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw new Error('invalid syntax');
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else throw new Error('invalid syntax');
  }
  return out;
}
