import { describe, expect, it } from 'vitest';
import {
  alertFingerprint,
  canonicalLabels,
  canonicalSeries,
  checkSeries,
  hash64,
  isValidLabelName,
  isValidMetricName,
  mergeLabels,
  seriesId,
  seriesIdentity,
} from '../../src/model/series.js';

describe('series identity', () => {
  it('lets a sample label override a source label and sorts names', () => {
    const merged = mergeLabels({ pool: 'a', host: 'web1', env: 'prod' }, { env: 'dev', svc: 'api' });
    expect(merged).toEqual({ env: 'dev', host: 'web1', pool: 'a', svc: 'api' });
    expect(Object.keys(merged)).toEqual(['env', 'host', 'pool', 'svc']);
  });

  it('drops empty values (an empty sample label removes the source label)', () => {
    expect(mergeLabels({ pool: 'a', host: 'h' }, { host: '' })).toEqual({ pool: 'a' });
    expect(seriesId('up', { a: '1', b: '' })).toBe(seriesId('up', { a: '1' }));
  });

  it('is invariant to label order', () => {
    const a = seriesIdentity('cpu.load', { host: 'h1', pool: 'p', env: 'prod' });
    const b = seriesIdentity('cpu.load', { env: 'prod', pool: 'p', host: 'h1' });
    expect(a).toEqual(b);
    expect(a.canonical).toBe('cpu.load{env="prod",host="h1",pool="p"}');
  });

  it('escapes backslash, quote and newline so distinct label sets never share a canonical form', () => {
    expect(canonicalLabels({ a: 'x"y', b: 'back\\slash', c: 'new\nline' })).toBe(
      '{a="x\\"y",b="back\\\\slash",c="new\\nline"}',
    );
    // Without escaping, these two would both read a="1",b="2".
    const one = canonicalSeries('m', { a: '1",b="2' });
    const two = canonicalSeries('m', { a: '1', b: '2' });
    expect(one).not.toBe(two);
    expect(seriesId('m', { a: '1",b="2' })).not.toBe(seriesId('m', { a: '1', b: '2' }));
  });

  it('distinguishes metric name and labels', () => {
    expect(seriesId('a', { x: '1' })).not.toBe(seriesId('b', { x: '1' }));
    expect(seriesId('a', { x: '1' })).not.toBe(seriesId('a', { x: '2' }));
  });

  it('hashes with xxh64 (seed 0) and exposes consistent representations', () => {
    // Published xxh64 test vector of the empty input.
    expect(hash64('').key).toBe('ef46db3751d8e999');
    const h = hash64('up{job="x"}');
    const unsigned = BigInt.asUintN(64, h.id);
    expect(unsigned.toString(16).padStart(16, '0')).toBe(h.key);
    expect(BigInt(h.hi) * 2n ** 32n + BigInt(h.lo)).toBe(unsigned);
    expect(h.id >= -(2n ** 63n) && h.id < 2n ** 63n).toBe(true);
  });

  it('computes the alert fingerprint without severity', () => {
    const a = alertFingerprint({ alertname: 'HostDown', host: 'h1', severity: 'page' });
    expect(a).toBe(alertFingerprint({ host: 'h1', alertname: 'HostDown', severity: 'ticket' }));
    expect(a).toBe(alertFingerprint({ alertname: 'HostDown', host: 'h1' }));
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(alertFingerprint({ alertname: 'HostDown', host: 'h2' }));
  });
});

describe('validity', () => {
  it('checks metric and label names', () => {
    for (const ok of ['cpu.load', 'http_requests_total', ':recorded:rate5m', '_x']) expect(isValidMetricName(ok)).toBe(true);
    for (const bad of ['', '1abc', 'cpu-load', 'a b', 'é']) expect(isValidMetricName(bad)).toBe(false);
    for (const ok of ['host', '_x', 'a1']) expect(isValidLabelName(ok)).toBe(true);
    for (const bad of ['', '1a', 'a.b', 'a:b', 'a-b']) expect(isValidLabelName(bad)).toBe(false);
  });

  it('reports each kind of problem', () => {
    expect(checkSeries('ok', { a: '1' })).toBeNull();
    expect(checkSeries('bad-name', {})?.reason).toBe('invalid_metric_name');
    expect(checkSeries('ok', { 'bad.label': '1' })?.reason).toBe('invalid_label_name');
    const many: Record<string, string> = {};
    for (let i = 0; i < 64; i++) many[`l${i}`] = 'v';
    expect(checkSeries('ok', many)).toBeNull();
    many.l64 = 'v';
    expect(checkSeries('ok', many)?.reason).toBe('too_many_labels');
    expect(checkSeries('ok', { a: 'x'.repeat(2048) })).toBeNull();
    expect(checkSeries('ok', { a: 'x'.repeat(2049) })?.reason).toBe('label_value_too_long');
    // 683 x 3-byte characters = 2049 bytes but only 683 UTF-16 units.
    expect(checkSeries('ok', { a: '€'.repeat(683) })?.reason).toBe('label_value_too_long');
  });
});

describe('unusual label names', () => {
  it('keeps a label called __proto__', () => {
    const labels = mergeLabels({}, JSON.parse('{"__proto__": "x", "a": "1"}'));
    expect(Object.keys(labels)).toEqual(['__proto__', 'a']);
    expect(canonicalSeries('m', labels)).toBe('m{__proto__="x",a="1"}');
    expect(seriesIdentity('m', labels).labels).toEqual(labels);
  });
});
