import { describe, expect, it } from 'vitest';
import { parseRulesFile, countParses } from '../../src/dsl/parse.js';
import { RuleError, formatRuleError } from '../../src/dsl/errors.js';
import type { AlertDecl, BinaryExpr, CallExpr } from '../../src/dsl/ast.js';

function syntaxError(src: string): string {
  try {
    parseRulesFile(src, 'f.rules');
  } catch (err) {
    expect(err).toBeInstanceOf(RuleError);
    return (err as RuleError).location;
  }
  throw new Error('expected a syntax error');
}

describe('parser', () => {
  it('keeps spans on every node', () => {
    const src = 'alert A {\n  when avg(cpu.load{env="prod"}) by (host) > 0.9\n}\n';
    const f = parseRulesFile(src, 'f.rules');
    const a = f.decls[0] as AlertDecl;
    expect(a.span).toMatchObject({ file: 'f.rules', line: 1, col: 1, offset: 0, end: src.length - 1 });
    expect(a.name.span).toMatchObject({ line: 1, col: 7 });
    const when = a.items[0]!;
    const cmp = (when as { expr: BinaryExpr }).expr;
    expect(cmp.op).toBe('>');
    const call = cmp.left as CallExpr;
    expect(src.slice(call.span.offset, call.span.end)).toBe('avg(cpu.load{env="prod"}) by (host)');
    expect(call.grouping!.labels.map((l) => [l.name, l.span.line, l.span.col])).toEqual([['host', 2, 38]]);
    expect(cmp.right.span).toMatchObject({ line: 2, col: 46 });
  });

  it('gives arithmetic the usual precedence and keeps words usable as label names', () => {
    const src = 'alert A { when sum(x{window="a", for="b"}) by (window) - 1 * 2 > 3 and not avg(y) < 1 or count(z) == 0 }';
    expect(countParses(src)).toBe(1);
    const f = parseRulesFile(src, 'f.rules');
    const e = ((f.decls[0] as AlertDecl).items[0] as { expr: BinaryExpr }).expr;
    expect(e.op).toBe('or');
    expect((e.left as BinaryExpr).op).toBe('and');
    const cmp = (e.left as BinaryExpr).left as BinaryExpr;
    expect(cmp.op).toBe('>');
    expect((cmp.left as BinaryExpr).op).toBe('-');
    expect(((cmp.left as BinaryExpr).right as BinaryExpr).op).toBe('*');
  });

  it('decodes strings and durations', () => {
    const f = parseRulesFile('alert A { when avg(x{a="q\\"\\\\\\n"}) > 1 window 1h30m }', 'f.rules');
    const items = (f.decls[0] as AlertDecl).items;
    const sel = ((items[0] as { expr: BinaryExpr }).expr.left as CallExpr).args[0] as { matchers: { value: { value: string } }[] };
    expect(sel.matchers[0]!.value.value).toBe('q"\\\n');
    expect(items[1]).toMatchObject({ kind: 'window', size: { ms: 5_400_000 } });
  });

  it('says in words what was expected', () => {
    expect(syntaxError('alert A {\n  window 5\n}')).toBe('f.rules:2:10: expected a duration like 5m, got "5"');
    expect(syntaxError('alert { }')).toBe('f.rules:1:7: expected a rule name, got "{"');
    expect(syntaxError('route { notify }')).toBe('f.rules:1:16: expected a receiver name, got "}"');
    expect(syntaxError('alert A { when avg(x) by host > 1 }')).toBe('f.rules:1:26: expected "(", got "host"');
    expect(syntaxError('alert A { labels { a = b } }')).toBe('f.rules:1:24: expected a quoted string, got "b"');
    expect(syntaxError('alert A { window 5min }')).toMatch(/^f\.rules:1:18: bad number or duration "5min"/);
    expect(syntaxError('alert A { when avg(x) $ 1 }')).toBe('f.rules:1:23: unexpected character "$"');
    expect(syntaxError('alert A {')).toMatch(/^f\.rules:1:10: expected "}", "when", .* got end of file$/);
  });

  it('prints the source line and a caret', () => {
    const src = 'alert A {\n\twindow 5\n}';
    try {
      parseRulesFile(src, 'f.rules');
    } catch (err) {
      expect(formatRuleError(err as RuleError, src)).toBe('f.rules:2:9: expected a duration like 5m, got "5"\n\twindow 5\n\t       ^');
      return;
    }
    throw new Error('expected an error');
  });
});
