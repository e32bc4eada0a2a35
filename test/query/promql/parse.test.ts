import { describe, expect, it } from 'vitest';
import { QueryError } from '../../../src/query/query-error.js';
import { parsePromQL } from '../../../src/query/promql/parse.js';
import { PromQLParseError } from '../../../src/query/promql/syntax-error.js';
import { expandTemplate } from '../../../src/query/promql/instant-functions.js';
import { formatValue } from '../../../src/query/promql/value.js';

function errorOf(text: string): QueryError {
  try {
    parsePromQL(text);
  } catch (err) {
    return err as QueryError;
  }
  throw new Error(`"${text}" parsed`);
}

describe('parsePromQL', () => {
  it('binds ranges, subqueries, offset and @ tightest, as Prometheus does (the lezer grammar binds them loosest)', () => {
    // (a + b)[5m:1m] would be a valid subquery with a different meaning; Prometheus reads a + (b[5m:1m]).
    expect(errorOf('a + b[5m:1m]').message).toBe('1:5: parse error: binary expression must contain only scalar and instant vector types');
    const e = parsePromQL('a offset 5m or b offset 1h');
    expect(e.kind === 'binary' && e.lhs.kind === 'vector' && e.rhs.kind === 'vector' ? [e.lhs.offsetMs, e.rhs.offsetMs] : null).toEqual([300_000, 3_600_000]);
    const u = parsePromQL('-metric @ 100');
    expect(u.kind === 'unary' && u.expr.kind === 'vector' ? u.expr.at : null).toEqual({ ms: 100_000 });
    expect(errorOf('(a + b) offset 5m').message).toMatch(/offset modifier must be preceded by an instant vector selector/);
    expect(errorOf('foo offset 1m [5m]').message).toMatch(/no offset modifiers allowed before range/);
  });

  it('reports syntax errors at their position; marks text outside the grammar', () => {
    const end = errorOf('sum(rate(x[5m])');
    expect(end).toBeInstanceOf(PromQLParseError);
    expect(end.message).toBe('1:16: parse error: unexpected end of input');
    expect((end as PromQLParseError).grammar).toBe(true);
    expect(errorOf('avg(cpu.load)').position).toBe(7);
    const typed = errorOf('rate(x)') as PromQLParseError;
    expect(typed.grammar).toBe(false);
    expect(errorOf('p99(x)').message).toMatch(/unknown function with name "p99"/);
    expect(errorOf('holt_winters(x[5m], 0.1, 0.1)').message).toMatch(/use double_exponential_smoothing/);
    expect(errorOf('{job=~".*"}').message).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher');
    expect(errorOf('x{a=~"(a"}').message).toMatch(/error parsing regexp: missing closing \)/);
  });

  it('refuses Prometheus 3 experiments with 422, naming them', () => {
    for (const [q, what] of [
      ['limitk(1, x)', /aggregation "limitk"/],
      ['mad_over_time(x[5m])', /function "mad_over_time"/],
      ['x[step()]', /duration/],
      ['a + fill(0) b', /fill modifiers/],
    ] as const) {
      const err = errorOf(q);
      expect(err.status, q).toBe(422);
      expect(err.message, q).toMatch(what);
    }
  });

  it('reads Vigil metric names with dots in braces', () => {
    const e = parsePromQL('{"cpu.load", pool="a"}');
    expect(e.kind === 'vector' ? [e.name, e.matchers.map((m) => `${m.name}${m.type}${m.value}`)] : null).toEqual(['cpu.load', ['__name__=cpu.load', 'pool=a']]);
  });
});

describe('PromQL values and templates', () => {
  it('formats values as Prometheus does (strconv.FormatFloat f, -1)', () => {
    expect([1e-7, 1e21, 0.1 + 0.2, -0, NaN, Infinity, -Infinity, 42].map(formatValue)).toEqual(['0.0000001', '1000000000000000000000', '0.30000000000000004', '-0', 'NaN', '+Inf', '-Inf', '42']);
  });

  it('expands label_replace templates like Go: $1x is the group named "1x"', () => {
    const groups = (n: string) => ({ '1': 'a', '2': 'b', name: 'n' })[n];
    expect(expandTemplate('$1-$2', groups)).toBe('a-b');
    expect(expandTemplate('${1}x', groups)).toBe('ax');
    expect(expandTemplate('$1x', groups)).toBe('');
    expect(expandTemplate('$$1 ${name}', groups)).toBe('$1 n');
  });
});
