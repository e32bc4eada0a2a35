import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/query/parse-query.js';
import { QueryError } from '../../src/query/query-error.js';

function errorOf(text: string): QueryError {
  try {
    parseQuery(text);
  } catch (err) {
    return err as QueryError;
  }
  throw new Error(`"${text}" parsed`);
}

describe('parseQuery', () => {
  it('parses an expression with the rules parser and lists the aggregations that read samples', () => {
    const q = parseQuery('sum(rate(http.errors{svc=~"api|web"})) by (svc) / sum(rate(http.requests)) by (svc)');
    expect(q.leaves.map((l) => [l.fn, l.sel.metric])).toEqual([
      ['rate', 'http.errors'],
      ['rate', 'http.requests'],
    ]);
  });

  it('reports a syntax error at its position in the query text', () => {
    const err = errorOf('avg(cpu.load by (host)');
    expect(err).toBeInstanceOf(QueryError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('QUERY_PARSE');
    expect(err.message).toMatch(/^query:1:\d+: /);
    const col = Number(/^query:1:(\d+):/.exec(err.message)![1]);
    expect(err.position).toBe(col - 1);
  });

  it('reports an unknown function and a bad regex at the start of the offending text', () => {
    expect(errorOf('frobnicate(cpu.load)').position).toBe(0);
    const bad = errorOf('avg(cpu.load{host=~"(web"})');
    expect(bad.message).toMatch(/regex|regular expression/i);
    expect(bad.position).toBeGreaterThanOrEqual(13);
  });

  it('maps positions on later lines', () => {
    const err = errorOf('avg(cpu.load)\n  + nope(x)');
    expect(err.message).toMatch(/^query:2:\d+: /);
  });

  it('rejects an empty query, rule declarations and absent()', () => {
    expect(errorOf('  ').code).toBe('QUERY_PARAM');
    expect(errorOf('x } alert Y { when avg(a) > 1').code).toBe('QUERY_PARSE');
    const absent = errorOf('absent(heartbeat) by (instance)');
    expect(absent.code).toBe('QUERY_UNSUPPORTED');
    expect(absent.message).toMatch(/absent\(\) needs rule state/);
  });

  it('accepts a condition: the groups where it holds, with their left operand', () => {
    const q = parseQuery('avg(cpu.load) by (host) > 0.9');
    expect(q.expr).toMatchObject({ t: 'cmp', op: '>' });
  });
});
