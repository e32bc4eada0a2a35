/**
 * Annotation templates: text with `{{ name | filter(arg) | ... }}` holes. Names: `value`,
 * `alertname`, `level`, `labels.<label>`. Filters: round(n), humanize, upper, lower, duration.
 * Templates cannot run code: parsing yields a list of parts; rendering only substitutes.
 * HTML escaping is the notifier's job when it renders an email body.
 */

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'hole'; name: string; label?: string; filters: { name: string; arg?: number }[]; offset: number };

export interface TemplateProblem {
  message: string;
  /** Offset of the problem inside the template text. */
  offset: number;
}

export const TEMPLATE_NAMES = ['value', 'alertname', 'level', 'labels.<name>'];
export const TEMPLATE_FILTERS = ['round', 'humanize', 'upper', 'lower', 'duration'];

/** Parses a template; returns its parts and every problem found (a bad hole is skipped). */
export function parseTemplate(text: string): { parts: TemplatePart[]; problems: TemplateProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: text.slice(pos, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      problems.push({ message: 'template: "{{" without a closing "}}"', offset: open });
      break;
    }
    const hole = parseHole(text.slice(open + 2, close), open + 2);
    if ('message' in hole) problems.push(hole);
    else parts.push(hole);
    pos = close + 2;
  }
  return { parts, problems };
}

function parseHole(src: string, base: number): TemplatePart | TemplateProblem {
  const segments = src.split('|');
  const head = segments[0]!.trim();
  const headAt = base + src.indexOf(head);
  let name: string;
  let label: string | undefined;
  const labelRef = /^labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(head);
  if (labelRef) {
    name = 'labels';
    label = labelRef[1];
  } else if (head === 'value' || head === 'alertname' || head === 'level') {
    name = head;
  } else {
    const what = head === '' ? 'an empty {{ }}' : `unknown name "${head}"`;
    return { message: `template: ${what} (use value, alertname, level or labels.<name>)`, offset: head === '' ? base : headAt };
  }
  const filters: { name: string; arg?: number }[] = [];
  let at = base + segments[0]!.length + 1;
  for (const seg of segments.slice(1)) {
    const f = seg.trim();
    const fAt = at + seg.indexOf(f);
    const m = /^([a-z_]+)(?:\(\s*(-?\d+)\s*\))?$/.exec(f);
    if (!m || !TEMPLATE_FILTERS.includes(m[1]!)) {
      return { message: `template: unknown filter "${f}" (use ${TEMPLATE_FILTERS.join(', ')})`, offset: fAt };
    }
    if (m[1] === 'round' && m[2] === undefined) filters.push({ name: 'round', arg: 0 });
    else if (m[2] !== undefined && m[1] !== 'round') return { message: `template: filter "${m[1]}" takes no argument`, offset: fAt };
    else filters.push(m[2] === undefined ? { name: m[1]! } : { name: m[1]!, arg: Number(m[2]) });
    at += seg.length + 1;
  }
  return { kind: 'hole', name, ...(label !== undefined ? { label } : {}), filters, offset: headAt };
}

/** What a template may refer to when it is rendered. */
export interface TemplateContext {
  value: number | null;
  alertname: string;
  level: string | null;
  labels: Readonly<Record<string, string>>;
}

/** Renders parsed parts; unknown labels render as the empty string. */
export function renderTemplate(parts: TemplatePart[], ctx: TemplateContext): string {
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') {
      out += p.text;
      continue;
    }
    let v: string | number | null =
      p.name === 'value' ? ctx.value : p.name === 'alertname' ? ctx.alertname : p.name === 'level' ? ctx.level : (ctx.labels[p.label!] ?? '');
    for (const f of p.filters) v = applyFilter(f.name, f.arg, v);
    out += v === null ? '' : typeof v === 'number' ? formatNumber(v) : v;
  }
  return out;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

function applyFilter(name: string, arg: number | undefined, v: string | number | null): string | number | null {
  if (v === null) return v;
  switch (name) {
    case 'upper':
      return String(v).toUpperCase();
    case 'lower':
      return String(v).toLowerCase();
    case 'round': {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) return v;
      const f = 10 ** (arg ?? 0);
      return Math.round(n * f) / f;
    }
    case 'humanize':
      return humanize(typeof v === 'number' ? v : Number(v));
    case 'duration':
      return humanizeDuration(typeof v === 'number' ? v : Number(v));
    default:
      return v;
  }
}

/** Like Prometheus' humanize: SI prefixes, 4 significant digits (1234567 -> "1.235M"). */
export function humanize(v: number): string {
  if (!Number.isFinite(v) || v === 0) return formatNumber(v);
  const abs = Math.abs(v);
  const big = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  const small = ['', 'm', 'µ', 'n', 'p', 'f', 'a'];
  if (abs >= 1) {
    let i = 0;
    let x = v;
    while (Math.abs(x) >= 1000 && i < big.length - 1) {
      x /= 1000;
      i++;
    }
    return `${Number(x.toPrecision(4))}${big[i]}`;
  }
  let i = 0;
  let x = v;
  while (Math.abs(x) < 1 && i < small.length - 1) {
    x *= 1000;
    i++;
  }
  return `${Number(x.toPrecision(4))}${small[i]}`;
}

/** Seconds as a duration, like Prometheus' humanizeDuration (90 -> "1m 30s"). */
export function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return formatNumber(seconds);
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  if (s < 1) return `${sign}${Number((s * 1000).toPrecision(4))}ms`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${Number(s.toFixed(3))}s`);
  return sign + parts.join(' ');
}
