import { describe, expect, it } from 'vitest';
import { Registry, Counter, Gauge, Histogram, Summary } from 'prom-client';
import { formatFromContentType, parseExposition } from '../../src/collect/scrape/parse-exposition.js';

function ok(text: string, format: 'prometheus' | 'openmetrics' = 'prometheus') {
  const result = parseExposition(text, format);
  if (!result.ok) throw new Error(`unexpected problem: ${JSON.stringify(result.problem)}`);
  return result.samples;
}

function problem(text: string, format: 'prometheus' | 'openmetrics' = 'prometheus') {
  const result = parseExposition(text, format);
  if (result.ok) throw new Error('expected a parse problem');
  return result.problem;
}

describe('parseExposition: Prometheus text 0.0.4', () => {
  it('parses types, labels, escapes, special values and ms timestamps', () => {
    const samples = ok(
      [
        '# HELP http_requests_total The total number of HTTP requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400",} 3 1395066363000',
        '',
        '# A plain comment',
        'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
        'metric_without_timestamp_and_labels 12.47',
        '# TYPE temp gauge',
        '  temp{} -Inf',
        'something_weird{problem="division by zero"} +Inf -3982045',
        'nan_value NaN',
      ].join('\n') + '\n',
    );
    expect(samples).toEqual([
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestamp: 1395066363000, kind: 'COUNTER' },
      { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestamp: 1395066363000, kind: 'COUNTER' },
      {
        name: 'msdos_file_access_time_seconds',
        labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
        value: 1.458255915e9,
        timestamp: undefined,
        kind: 'UNKNOWN',
      },
      { name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47, timestamp: undefined, kind: 'UNKNOWN' },
      { name: 'temp', labels: {}, value: Number.NEGATIVE_INFINITY, timestamp: undefined, kind: 'GAUGE' },
      { name: 'something_weird', labels: { problem: 'division by zero' }, value: Number.POSITIVE_INFINITY, timestamp: -3982045, kind: 'UNKNOWN' },
      { name: 'nan_value', labels: {}, value: Number.NaN, timestamp: undefined, kind: 'UNKNOWN' },
    ]);
  });

  it('maps histogram and summary series to UNKNOWN and keeps every series', () => {
    const samples = ok(
      [
        '# TYPE rpc histogram',
        'rpc_bucket{le="0.05"} 24054',
        'rpc_bucket{le="+Inf"} 144320',
        'rpc_sum 53423',
        'rpc_count 144320',
        '# TYPE lat summary',
        'lat{quantile="0.5"} 4773',
        'lat_sum 1.7560473e+07',
        'lat_count 2693',
      ].join('\n'),
    );
    expect(samples.map((s) => `${s.name}:${s.kind}`)).toEqual([
      'rpc_bucket:UNKNOWN',
      'rpc_bucket:UNKNOWN',
      'rpc_sum:UNKNOWN',
      'rpc_count:UNKNOWN',
      'lat:UNKNOWN',
      'lat_sum:UNKNOWN',
      'lat_count:UNKNOWN',
    ]);
    expect(samples[1]!.labels).toEqual({ le: '+Inf' });
  });

  it('parses what prom-client exposes', async () => {
    const register = new Registry();
    const c = new Counter({ name: 'jobs_total', help: 'Jobs "done"\\ok', labelNames: ['queue'], registers: [register] });
    c.inc({ queue: 'a"b\\c\nd' }, 3);
    new Gauge({ name: 'temp_celsius', help: 'Temperature', registers: [register] }).set(-1.5);
    const h = new Histogram({ name: 'req_seconds', help: 'h', buckets: [0.1, 1], registers: [register] });
    h.observe(0.5);
    const s = new Summary({ name: 'size_bytes', help: 's', percentiles: [0.5], registers: [register] });
    s.observe(10);
    const samples = ok(await register.metrics(), formatFromContentType(register.contentType));
    const byName = (n: string) => samples.filter((x) => x.name === n);
    expect(byName('jobs_total')).toEqual([{ name: 'jobs_total', labels: { queue: 'a"b\\c\nd' }, value: 3, timestamp: undefined, kind: 'COUNTER' }]);
    expect(byName('temp_celsius')[0]!.kind).toBe('GAUGE');
    expect(byName('req_seconds_bucket').map((x) => [x.labels.le, x.value])).toEqual([
      ['0.1', 0],
      ['1', 1],
      ['+Inf', 1],
    ]);
    expect(byName('size_bytes')[0]!.labels).toEqual({ quantile: '0.5' });
  });

  it('reports the first bad line with line and column', () => {
    expect(problem('a 1\nb{x="1"} abc\nc 3')).toEqual({ line: 2, column: 10, message: 'invalid value "abc"' });
    expect(problem('a{x="1} 2')).toMatchObject({ line: 1, message: 'unterminated value for label x' });
    expect(problem('a{x="1",x="2"} 2')).toMatchObject({ message: 'duplicate label x' });
    expect(problem('a{1x="1"} 2')).toMatchObject({ column: 3, message: 'invalid label name "1x"' });
    expect(problem('1a 2')).toMatchObject({ column: 1, message: 'invalid metric name "1a"' });
    expect(problem('a')).toMatchObject({ message: 'missing value' });
    expect(problem('a 1 12.5')).toMatchObject({ message: 'invalid timestamp "12.5" (integer milliseconds)' });
    expect(problem('a 1 2 3')).toMatchObject({ message: 'unexpected text after the timestamp: "3"' });
    expect(problem('# TYPE a counter\n# TYPE a gauge')).toMatchObject({ line: 2, message: 'second TYPE line for metric a' });
    expect(problem('# TYPE a bogus')).toMatchObject({ message: 'invalid metric type "bogus" for a' });
    expect(problem('a 1\n# TYPE a gauge')).toMatchObject({ line: 2, message: 'TYPE line for a after its samples' });
    expect(problem('a{x="1"}2')).toMatchObject({ message: 'unexpected "2" after the metric name' });
    expect(problem('a 0x10')).toMatchObject({ message: 'invalid value "0x10"' });
  });
});

describe('parseExposition: OpenMetrics 1.0', () => {
  const page = [
    '# TYPE acme_http_router_request_seconds summary',
    '# UNIT acme_http_router_request_seconds seconds',
    '# HELP acme_http_router_request_seconds Latency though all of ACME\'s global router.',
    'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32 1520879607.789',
    'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0',
    'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0',
    '# TYPE foo counter',
    'foo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67',
    'foo_created 1520430000.123',
    '# TYPE cpu gauge',
    'cpu{core="0"} +Inf',
    '# TYPE rpc histogram',
    'rpc_bucket{le="1.0"} 0 # {trace_id="x"} 0.5 123',
    'rpc_bucket{le="+Inf"} 1',
    '# TYPE info_thing info',
    'info_thing_info{version="1.2"} 1',
    '# EOF',
  ].join('\n');

  it('parses seconds timestamps, ignores exemplars, keeps _created as a gauge series', () => {
    const samples = ok(page + '\n', formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8'));
    expect(samples.map((s) => [s.name, s.kind, s.value, s.timestamp])).toEqual([
      ['acme_http_router_request_seconds_sum', 'UNKNOWN', 9036.32, 1520879607789],
      ['acme_http_router_request_seconds_count', 'UNKNOWN', 807283, undefined],
      ['acme_http_router_request_seconds_created', 'GAUGE', 1605281325, undefined],
      ['foo_total', 'COUNTER', 17, 1520879607789],
      ['foo_created', 'GAUGE', 1520430000.123, undefined],
      ['cpu', 'GAUGE', Number.POSITIVE_INFINITY, undefined],
      ['rpc_bucket', 'UNKNOWN', 0, undefined],
      ['rpc_bucket', 'UNKNOWN', 1, undefined],
      ['info_thing_info', 'UNKNOWN', 1, undefined],
    ]);
  });

  it('requires # EOF last and rejects content after it', () => {
    expect(problem('a 1\n', 'openmetrics')).toMatchObject({ line: 2, message: expect.stringContaining('missing "# EOF"') });
    expect(problem('a 1\n# EOF\nb 2\n', 'openmetrics')).toMatchObject({ line: 3, message: 'unexpected content after "# EOF"' });
    expect(problem('# just a comment\n# EOF', 'openmetrics')).toMatchObject({ line: 1, message: expect.stringContaining('invalid comment') });
    expect(problem('a{x="\\t"} 1\n# EOF', 'openmetrics')).toMatchObject({ message: 'invalid escape "\\t" in the value of label x' });
    expect(problem('a 1 abc\n# EOF', 'openmetrics')).toMatchObject({ message: 'invalid timestamp "abc" (OpenMetrics: seconds)' });
    expect(problem('# TYPE a gaugehistogram\n# EOF')).toMatchObject({ message: 'invalid metric type "gaugehistogram" for a' });
  });

  it('treats an unknown content type as the text format', () => {
    expect(formatFromContentType('text/plain; version=0.0.4')).toBe('prometheus');
    expect(formatFromContentType(undefined)).toBe('prometheus');
    expect(ok('a 1\n# EOF\n', 'prometheus')).toHaveLength(1);
  });
});
