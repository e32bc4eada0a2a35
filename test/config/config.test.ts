import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/config.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('gives the contract defaults with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toBeUndefined();
    expect(config.schemaRegistry.url).toBeUndefined();
    expect(config.state.dir).toBe('./data/state');
    expect(config.archive.root).toBe('./data/archive');
    expect(config.notify.pagerdutyUrl).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(config.http.port).toBe(9464);
    expect(config.push.tokens).toEqual([]);
    expect(config.archive.retention).toEqual({ raw: '30d', '1m': '90d', '1h': '400d' });
  });

  it('lets the environment override the file', () => {
    const path = yamlFile('http:\n  port: 1234\nstate:\n  dir: /from/file\n');
    const config = loadConfig({
      path,
      env: { VIGIL_HTTP_PORT: '8080', KAFKA_BROKERS: 'k1:9092,k2:9092', VIGIL_PUSH_TOKENS: 'a, b', VIGIL_ARCHIVE: 's3://bucket/p' },
    });
    expect(config.http.port).toBe(8080);
    expect(config.state.dir).toBe('/from/file');
    expect(config.kafka.brokers).toBe('k1:9092,k2:9092');
    expect(config.push.tokens).toEqual(['a', 'b']);
    expect(config.archive.root).toBe('s3://bucket/p');
  });

  it('names an unknown key', () => {
    const path = yamlFile('http:\n  prot: 1\n');
    expect(() => loadConfig({ path, env: {} })).toThrow(/unknown key "http\.prot"/);
  });

  it('names a key with a bad value', () => {
    const path = yamlFile('archive:\n  retention:\n    raw: thirty days\n');
    expect(() => loadConfig({ path, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ path, env: {} })).toThrow(/"archive\.retention\.raw": expected a duration/);
  });

  it('rejects a bad port from the environment with the key', () => {
    expect(() => loadConfig({ env: { VIGIL_HTTP_PORT: 'abc' } })).toThrow(/"http\.port"/);
  });

  it('reports a missing file and bad YAML', () => {
    expect(() => loadConfig({ path: '/nonexistent/vigil.yaml', env: {} })).toThrow(/does not exist/);
    expect(() => loadConfig({ path: yamlFile('a: [1,'), env: {} })).toThrow(/not valid YAML/);
  });
});
