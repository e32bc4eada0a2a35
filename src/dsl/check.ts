/**
 * The checker: parses every given file, validates everything it can, and returns ALL errors of all
 * files in one run (a file with a syntax error stops at that error; the others are still checked),
 * or the checked model when there are none.
 */
import { createHash } from 'node:crypto';
import type * as A from './ast.js';
import { RuleError, errorAt } from './errors.js';
import { parseRulesFile } from './parse.js';
import { checkExpr, LABEL_RE, type Checked, type ExprContext } from './check-expr.js';
import {
  DEFAULT_FORGET_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_WINDOW_MS,
  type CheckedInhibit,
  type CheckedReceiver,
  type CheckedRoute,
  type CheckedRule,
  type CheckedRules,
} from './model.js';
import { parseTemplate, type TemplatePart } from './template.js';
import { checkReceiver, checkRoute, checkInhibit } from './check-notify.js';
import { formatDuration } from './duration.js';

export interface SourceFile {
  file: string;
  source: string;
}

export interface CheckResult {
  /** The checked model; null when there is any error. */
  model: CheckedRules | null;
  errors: RuleError[];
  /** Parsed files (only those without syntax errors). */
  files: A.RulesFile[];
  /** Source text per file name, for printing error lines. */
  sources: Map<string, string>;
}

interface Defaults {
  windowMs: number;
  everyMs: number | null;
  graceMs: number;
  labels: Record<string, string>;
  text: string;
}

const RULE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const RECORD_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:.]*$/;

const ALLOWED: Record<'defaults' | 'alert' | 'record', ReadonlySet<string>> = {
  defaults: new Set(['window', 'grace', 'labels', 'forget']),
  alert: new Set(['when', 'value', 'level', 'window', 'grace', 'for', 'keep_firing', 'forget', 'severity', 'labels', 'annotations']),
  record: new Set(['value', 'window', 'grace', 'labels']),
};

function itemName(it: A.RuleItem): string {
  return it.kind === 'level' ? `${it.level.name} when` : it.kind;
}

/** Validates which settings a block may hold and that none is repeated; returns the usable items by kind. */
function collectItems(kind: 'defaults' | 'alert' | 'record', items: A.RuleItem[], errors: RuleError[]): Map<string, A.RuleItem> {
  const byKind = new Map<string, A.RuleItem>();
  for (const it of items) {
    if (!ALLOWED[kind].has(it.kind)) {
      const hint = kind === 'record' && it.kind === 'when' ? ' (a record needs "value")' : '';
      errors.push(errorAt('BAD_SETTING', `"${itemName(it)}" is not allowed in ${kind === 'defaults' ? 'a defaults block' : kind === 'alert' ? 'an alert' : 'a record'}${hint}`, it.span));
      continue;
    }
    if (it.kind === 'level') continue;
    if (byKind.has(it.kind)) {
      errors.push(errorAt('DUPLICATE_SETTING', `"${it.kind}" is set twice in this block`, it.span));
      continue;
    }
    byKind.set(it.kind, it);
  }
  return byKind;
}

function checkPairs(pairs: A.PairNode[], what: string, errors: RuleError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    if (!LABEL_RE.test(p.key.name)) errors.push(errorAt('BAD_NAME', `invalid ${what} name "${p.key.name}"`, p.key.span));
    else if (p.key.name in out) errors.push(errorAt('DUPLICATE_SETTING', `${what} "${p.key.name}" is set twice`, p.key.span));
    else out[p.key.name] = p.value.value;
  }
  return out;
}

function defaultsOf(file: A.RulesFile, errors: RuleError[]): Defaults {
  const d: Defaults = { windowMs: DEFAULT_WINDOW_MS, everyMs: null, graceMs: DEFAULT_GRACE_MS, labels: {}, text: '' };
  const blocks = file.decls.filter((x): x is A.DefaultsDecl => x.kind === 'defaults');
  blocks.slice(1).forEach((b) => errors.push(errorAt('DUPLICATE_DEFAULTS', 'a file may have at most one defaults block', b.span)));
  const block = blocks[0];
  if (!block) return d;
  const items = collectItems('defaults', block.items, errors);
  const w = items.get('window') as Extract<A.RuleItem, { kind: 'window' }> | undefined;
  if (w) {
    d.windowMs = w.size.ms;
    d.everyMs = w.every?.ms ?? null;
    checkWindow(w, errors);
  }
  const g = items.get('grace') as Extract<A.RuleItem, { kind: 'grace' }> | undefined;
  if (g) d.graceMs = g.value.ms;
  const l = items.get('labels') as Extract<A.RuleItem, { kind: 'labels' }> | undefined;
  if (l) d.labels = checkPairs(l.pairs, 'label', errors);
  d.text = file.source.slice(block.span.offset, block.span.end);
  return d;
}

function checkWindow(w: Extract<A.RuleItem, { kind: 'window' }>, errors: RuleError[]): boolean {
  if (w.size.ms <= 0) {
    errors.push(errorAt('BAD_DURATION', 'window must be longer than 0', w.size.span));
    return false;
  }
  if (w.every) {
    if (w.every.ms <= 0 || w.every.ms > w.size.ms) {
      errors.push(errorAt('BAD_DURATION', `every ${w.every.text} must be longer than 0 and at most the window (${w.size.text})`, w.every.span));
      return false;
    }
    if (w.size.ms % w.every.ms !== 0) {
      errors.push(errorAt('NOT_WINDOW_MULTIPLE', `window ${w.size.text} is not a multiple of every ${w.every.text}`, w.size.span));
      return false;
    }
  }
  return true;
}

function checkTemplates(
  pairs: A.PairNode[],
  groupLabels: string[] | null,
  known: Record<string, string>,
  errors: RuleError[],
): Record<string, TemplatePart[]> {
  const out: Record<string, TemplatePart[]> = {};
  for (const p of pairs) {
    const { parts, problems } = parseTemplate(p.value.value);
    // Columns inside the string are exact unless escapes precede the problem (then approximate).
    const at = (offset: number) => ({ ...p.value.span, col: p.value.span.col + 1 + offset, offset: p.value.span.offset + 1 + offset });
    for (const pr of problems) errors.push(new RuleError('TEMPLATE', pr.message, at(pr.offset)));
    for (const part of parts) {
      if (part.kind !== 'hole' || part.name !== 'labels' || !groupLabels) continue;
      const l = part.label!;
      if (!groupLabels.includes(l) && !(l in known) && l !== 'alertname' && l !== 'severity') {
        errors.push(new RuleError('TEMPLATE', `template: unknown label "${l}": this rule's alerts have ${[...groupLabels, ...Object.keys(known), 'alertname', 'severity'].join(', ')}`, at(part.offset)));
      }
    }
    out[p.key.name] = parts;
  }
  return out;
}

function ruleHash(text: string, defaults: Defaults): string {
  return createHash('sha256').update(text).update('\0').update(defaults.text).digest('hex').slice(0, 16);
}

type Item<K extends A.RuleItem['kind']> = Extract<A.RuleItem, { kind: K }>;

function checkRule(decl: A.AlertDecl | A.RecordDecl, file: A.RulesFile, defaults: Defaults, errors: RuleError[]): CheckedRule | null {
  const before = errors.length;
  const kind = decl.kind;
  const nameOk = kind === 'alert' ? RULE_NAME_RE.test(decl.name.name) : RECORD_NAME_RE.test(decl.name.name);
  if (!nameOk) errors.push(errorAt('BAD_NAME', `invalid ${kind} name "${decl.name.name}"`, decl.name.span));
  const items = collectItems(kind, decl.items, errors);
  const get = <K extends A.RuleItem['kind']>(k: K) => items.get(k) as Item<K> | undefined;
  const ctx: ExprContext = { errors, source: file.source, value: null, nextId: 0, metrics: new Set() };

  const win = get('window');
  const windowOk = win ? checkWindow(win, errors) : true;
  const windowMs = win ? win.size.ms : defaults.windowMs;
  const stepMs = win ? (win.every?.ms ?? win.size.ms) : (defaults.everyMs ?? defaults.windowMs);
  const stepText = win ? (win.every ?? win.size).text : formatDuration(stepMs);
  const multiple = (it: Item<'for'> | Item<'keep_firing'> | undefined): number => {
    if (!it) return 0;
    if (windowOk && it.value.ms % stepMs !== 0) {
      errors.push(errorAt('NOT_WINDOW_MULTIPLE', `${it.kind} ${it.value.text} is not a multiple of the evaluation interval (${win?.every ? 'every' : 'window'} ${stepText})`, it.value.span));
    }
    return it.value.ms;
  };
  const forMs = multiple(get('for'));
  const keepFiringMs = multiple(get('keep_firing'));

  let value: Checked | null = null;
  const valueItem = get('value');
  if (valueItem) {
    value = checkExpr(valueItem.expr, ctx);
    if (value && value.shape.kind !== 'vector') {
      errors.push(errorAt('TYPE', `"value" needs a number per group (an aggregation), got ${value.shape.kind === 'cond' ? 'a condition' : 'a plain number'}`, valueItem.expr.span));
      value = null;
    }
    ctx.value = value;
  } else if (kind === 'record') {
    errors.push(errorAt('MISSING_SETTING', `record "${decl.name.name}" needs a value expression`, decl.name.span));
  }
  const cond = (e: A.Expr): Checked | null => {
    const c = checkExpr(e, ctx);
    if (c && c.shape.kind !== 'cond') {
      errors.push(errorAt('TYPE', 'a condition is needed here (a comparison such as > 0.9, or absent(...))', e.span));
      return null;
    }
    return c;
  };
  const whenItem = get('when');
  const when = whenItem ? cond(whenItem.expr) : null;
  const levels: { name: string; cond: Checked | null; span: A.Span }[] = [];
  let clear: Checked | null = null;
  const seenLevels = new Set<string>();
  for (const it of decl.items) {
    if (it.kind !== 'level' || kind !== 'alert') continue;
    const c = cond(it.expr);
    if (it.level.name === 'clear') {
      if (clear || seenLevels.has('clear')) errors.push(errorAt('DUPLICATE_SETTING', '"clear when" is set twice in this block', it.span));
      seenLevels.add('clear');
      clear = c;
      continue;
    }
    if (seenLevels.has(it.level.name)) errors.push(errorAt('DUPLICATE_SETTING', `level "${it.level.name}" is set twice in this block`, it.level.span));
    else if (!LABEL_RE.test(it.level.name)) errors.push(errorAt('BAD_NAME', `invalid level name "${it.level.name}"`, it.level.span));
    seenLevels.add(it.level.name);
    levels.push({ name: it.level.name, cond: c, span: it.span });
  }
  if (kind === 'alert') {
    if (!whenItem && levels.length === 0) errors.push(errorAt('MISSING_SETTING', `alert "${decl.name.name}" needs a "when" condition or levels such as "warning when value > 80"`, decl.name.span));
    if (whenItem && levels.length) errors.push(errorAt('BAD_SETTING', 'an alert has either "when" or levels, not both', levels[0]!.span));
  }
  const sevItem = get('severity');
  if (sevItem && levels.length) errors.push(errorAt('BAD_SETTING', 'a multi-level alert takes its severity from the level name; remove "severity"', sevItem.span));
  let severity = sevItem ? (sevItem.value.kind === 'string' ? sevItem.value.value : sevItem.value.name) : null;

  const ruleLabels = get('labels') ? checkPairs(get('labels')!.pairs, 'label', errors) : {};
  const labels: Record<string, string> = { ...defaults.labels, ...ruleLabels };
  if (kind === 'alert' && 'alertname' in ruleLabels) errors.push(errorAt('BAD_SETTING', 'label "alertname" is set by Vigil', get('labels')!.span));
  // `labels { severity = "x" }` (or a defaults label) is the same as `severity x` for single-level alerts.
  if (severity === null && kind === 'alert' && levels.length === 0 && labels.severity !== undefined) severity = labels.severity;
  if (severity !== null) labels.severity = severity;

  const shape = (value ?? when ?? levels.find((l) => l.cond)?.cond ?? null)?.shape;
  // Template label names are checked only against an explicit `by`: without one the labels are open.
  const templateLabels = shape && shape.kind !== 'scalar' && shape.sig.startsWith('by:') && shape.sig !== 'by:' ? shape.labels : null;
  const annItem = get('annotations');
  const annotations = annItem ? checkTemplates(annItem.pairs, templateLabels, labels, errors) : {};
  if (errors.length > before) return null;

  const fgt = get('forget');
  return {
    kind,
    name: decl.name.name,
    file: file.file,
    span: decl.span,
    nameSpan: decl.name.span,
    hash: ruleHash(file.source.slice(decl.span.offset, decl.span.end), defaults),
    windowMs,
    stepMs,
    graceMs: get('grace')?.value.ms ?? defaults.graceMs,
    forMs,
    keepFiringMs,
    forgetMs: fgt ? fgt.value.ms : DEFAULT_FORGET_MS,
    labels,
    severity,
    annotations,
    value: value?.ce ?? null,
    when: when?.ce ?? null,
    levels: levels.map((l) => ({ name: l.name, cond: l.cond!.ce })),
    clear: clear?.ce ?? null,
    groupLabels: shape && shape.kind !== 'scalar' ? shape.labels : null,
    metrics: [...ctx.metrics].sort(),
  };
}

function findCycles(rules: CheckedRule[], errors: RuleError[]): void {
  const records = new Map(rules.filter((r) => r.kind === 'record').map((r) => [r.name, r]));
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (r: CheckedRule, path: CheckedRule[]): void => {
    state.set(r.name, 'visiting');
    for (const m of r.metrics) {
      const dep = records.get(m);
      if (!dep) continue;
      if (state.get(m) === 'visiting') {
        const cycle = [...path.slice(path.findIndex((p) => p.name === m)), r];
        const key = cycle.map((c) => c.name).sort().join('\0');
        if (!reported.has(key)) {
          reported.add(key);
          const names = [...cycle.map((c) => c.name), m].join(' -> ');
          errors.push(errorAt('RECORDING_CYCLE', `recording rule "${r.name}" is part of a cycle: ${names}`, r.nameSpan));
        }
      } else if (!state.has(m)) visit(dep, [...path, r]);
    }
    state.set(r.name, 'done');
  };
  for (const r of records.values()) if (!state.has(r.name)) visit(r, []);
}

function duplicates<T extends { name: string; file: string; span: A.Span }>(items: T[], what: string, errors: RuleError[]): void {
  const first = new Map<string, T>();
  for (const it of items) {
    const f = first.get(it.name);
    if (f) errors.push(errorAt('DUPLICATE_NAME', `duplicate ${what} name "${it.name}" (first defined at ${f.file}:${f.span.line}:${f.span.col})`, it.span));
    else first.set(it.name, it);
  }
}

/**
 * Parses and checks rules files together (names are unique across all of them; routes may use
 * receivers of any file). Errors are sorted by file (in the given order), then position.
 */
export function checkSources(sources: SourceFile[]): CheckResult {
  const errors: RuleError[] = [];
  const files: A.RulesFile[] = [];
  const sourceMap = new Map<string, string>();
  for (const s of sources) {
    sourceMap.set(s.file, s.source);
    try {
      files.push(parseRulesFile(s.source, s.file));
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      errors.push(err);
    }
  }
  const rules: CheckedRule[] = [];
  const ruleDecls: { name: string; file: string; span: A.Span; kind: string }[] = [];
  const receivers: CheckedReceiver[] = [];
  const receiverDecls: { name: string; file: string; span: A.Span }[] = [];
  const routes: { route: CheckedRoute | null; decl: A.RouteDecl }[] = [];
  const inhibits: CheckedInhibit[] = [];
  for (const f of files) {
    const defaults = defaultsOf(f, errors);
    for (const d of f.decls) {
      if (d.kind === 'alert' || d.kind === 'record') {
        ruleDecls.push({ name: d.name.name, file: f.file, span: d.name.span, kind: d.kind });
        const r = checkRule(d, f, defaults, errors);
        if (r) rules.push(r);
      } else if (d.kind === 'receiver') {
        receiverDecls.push({ name: d.name.name, file: f.file, span: d.name.span });
        const r = checkReceiver(d, f.file, errors);
        if (r) receivers.push(r);
      } else if (d.kind === 'route') {
        routes.push({ route: checkRoute(d, f.file, errors), decl: d });
      } else if (d.kind === 'inhibit') {
        const i = checkInhibit(d, f.file, errors);
        if (i) inhibits.push(i);
      }
    }
  }
  duplicates(ruleDecls.filter((d) => d.kind === 'alert'), 'alert', errors);
  duplicates(ruleDecls.filter((d) => d.kind === 'record'), 'record', errors);
  duplicates(receiverDecls, 'receiver', errors);
  const receiverNames = new Set(receiverDecls.map((r) => r.name));
  for (const { decl } of routes) {
    for (const it of decl.items) {
      if (it.kind !== 'notify') continue;
      for (const r of it.receivers) {
        if (!receiverNames.has(r.name)) errors.push(errorAt('UNKNOWN_RECEIVER', `unknown receiver "${r.name}"`, r.span));
      }
    }
  }
  findCycles(rules, errors);
  const order = new Map(sources.map((s, i) => [s.file, i]));
  errors.sort((a, b) => (order.get(a.file)! - order.get(b.file)!) || a.offset - b.offset);
  const model = errors.length
    ? null
    : { rules, receivers, routes: routes.map((r) => r.route!), inhibits };
  return { model, errors, files, sources: sourceMap };
}
