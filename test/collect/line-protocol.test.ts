import { describe, expect, it } from 'vitest';
import { parseLineProtocol, parsePrecision } from '../../src/collect/push/line-protocol.js';

describe('parseLineProtocol', () => {
  it('parses measurements, tags, every field type and escapes', () => {
    const { points, problems } = parseLineProtocol(
      [
        'my\\ meas\\,x,tag\\ key=tag\\=v\\,al f1=1,f2=-1.5e3,f3=12i,f4=18446744073709551615u,f5=t,f6=FALSE,f7="a \\"q\\" \\\\ b" 1700000000000000000',
        'm v=.5',
        '  # indented comment',
        'm,empty= v=1',
      ].join('\n'),
      'ns',
    );
    expect(points[0]).toEqual({
      line: 1,
      measurement: 'my meas,x',
      tags: { 'tag key': 'tag=v,al' },
      fields: [
        { key: 'f1', value: 1, type: 'float' },
        { key: 'f2', value: -1500, type: 'float' },
        { key: 'f3', value: 12, type: 'integer' },
        { key: 'f4', value: 18446744073709551615, type: 'unsigned' },
        { key: 'f5', value: 1, type: 'boolean' },
        { key: 'f6', value: 0, type: 'boolean' },
        { key: 'f7', value: Number.NaN, type: 'string', text: 'a "q" \\ b' },
      ],
      timestamp: 1_700_000_000_000,
    });
    expect(points[1]).toEqual({ line: 2, measurement: 'm', tags: {}, fields: [{ key: 'v', value: 0.5, type: 'float' }], timestamp: undefined });
    expect(problems).toEqual([{ line: 4, message: 'missing tag value for tag "empty": "m,empty= v=1"' }]);
  });

  it('converts every precision to milliseconds (floor, also before 1970)', () => {
    const ts = (text: string, p: Parameters<typeof parseLineProtocol>[1]) => parseLineProtocol(`m v=1 ${text}`, p).points[0]!.timestamp;
    expect(ts('1700000000123999999', 'ns')).toBe(1_700_000_000_123);
    expect(ts('1700000000123999', 'us')).toBe(1_700_000_000_123);
    expect(ts('1700000000123', 'ms')).toBe(1_700_000_000_123);
    expect(ts('1700000000', 's')).toBe(1_700_000_000_000);
    expect(ts('2', 'm')).toBe(120_000);
    expect(ts('2', 'h')).toBe(7_200_000);
    expect(ts('-1500000', 'ns')).toBe(-2);
  });

  it('reports each bad line with its number', () => {
    const body = ['m', 'm v=', 'm v=1i2', 'm v=99999999999999999999i', 'm v=-1u', 'm v="open', 'm v=1 12.5', 'm v=1 1 2', 'm,t=1,t=2 v=1', 'm v=1,v=2', ',t=1 v=1', 'm v=1,'].join('\n');
    const { points, problems } = parseLineProtocol(body, 'ns');
    expect(points).toEqual([]);
    expect(problems.map((p) => `${p.line}: ${p.message.replace(/: ".*"$/, '')}`)).toEqual([
      '1: missing fields',
      '2: missing field value for field "v"',
      '3: invalid value for field "v": 1i2',
      '4: integer value out of range for field "v": 99999999999999999999i',
      '5: invalid value for field "v": -1u',
      '6: unterminated string value for field "v"',
      '7: invalid timestamp "12.5"',
      '8: unexpected text after the timestamp',
      '9: duplicate tag "t"',
      '10: duplicate field "v"',
      '11: missing measurement',
      '12: missing field after ","',
    ]);
  });

  it('knows the v1 and v2 precision spellings', () => {
    expect(parsePrecision(undefined, 'v2')).toBe('ns');
    expect(parsePrecision('us', 'v2')).toBe('us');
    expect(parsePrecision('u', 'v1')).toBe('us');
    expect(parsePrecision('n', 'v1')).toBe('ns');
    expect(parsePrecision('h', 'v1')).toBe('h');
    expect(parsePrecision('h', 'v2')).toBeUndefined();
    expect(parsePrecision('u', 'v2')).toBeUndefined();
    expect(parsePrecision('xs', 'v1')).toBeUndefined();
  });
});
