import { describe, expect, it } from 'vitest';
import { parseSeries, parseValues, NotationError } from '../../src/rules/series-notation.js';

describe('promtool series notation', () => {
  it('expands a+bxn, a-bxn, axn, _ and _xn', () => {
    expect(parseValues('1+2x3')).toEqual([1, 3, 5, 7]);
    expect(parseValues('10-1x2 _ 4')).toEqual([10, 9, 8, null, 4]);
    expect(parseValues('0.95x2')).toEqual([0.95, 0.95, 0.95]);
    expect(parseValues('_x2 -1 Inf NaN stale')).toEqual([null, null, -1, Infinity, NaN, null]);
    expect(parseValues('0.1+0.1x2')).toEqual([0.1, 0.2, 0.3]);
  });

  it('parses series with labels and escapes', () => {
    expect(parseSeries('cpu.load{host="web1", env="prod", pool="a"}')).toEqual({ name: 'cpu.load', labels: { host: 'web1', env: 'prod', pool: 'a' } });
    expect(parseSeries('up')).toEqual({ name: 'up', labels: {} });
    expect(parseSeries('m{a="x\\"y",}')).toEqual({ name: 'm', labels: { a: 'x"y' } });
  });

  it('rejects what it cannot read', () => {
    expect(() => parseValues('1x')).toThrow(NotationError);
    expect(() => parseValues('abc')).toThrow(/invalid value "abc"/);
    expect(() => parseSeries('m{a=b}')).toThrow(/invalid labels/);
  });
});
