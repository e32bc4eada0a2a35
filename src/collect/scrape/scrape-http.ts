/**
 * One HTTP scrape: GET with the headers Prometheus sends (OpenMetrics preferred, gzip), a hard
 * timeout over the whole exchange, and the body parsed by its Content-Type.
 */
import http from 'node:http';
import https from 'node:https';
import { createGunzip } from 'node:zlib';
import { formatFromContentType, parseExposition, type ExposedSample, type ExpositionFormat } from './parse-exposition.js';

/** What Prometheus (scrape/scrape.go) sends as Accept. */
export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
export const USER_AGENT = 'vigil-collect/0.1';
/** Largest (decompressed) exposition read from one target. */
export const MAX_SCRAPE_BYTES = 64 * 1024 * 1024;

export type ScrapeOutcome =
  | { ok: true; samples: ExposedSample[]; format: ExpositionFormat; bytes: number }
  | { ok: false; error: string };

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 4 }), https: new https.Agent({ keepAlive: true, maxSockets: 4 }) };

/** Fetches and parses one target. Never rejects: failures are returned as `{ok: false, error}`. */
export function scrapeUrl(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<ScrapeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: ScrapeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const isHttps = url.startsWith('https:');
    const request = (isHttps ? https : http).get(
      url,
      {
        agent: isHttps ? agents.https : agents.http,
        headers: {
          Accept: SCRAPE_ACCEPT,
          'Accept-Encoding': 'gzip',
          'User-Agent': USER_AGENT,
          'X-Prometheus-Scrape-Timeout-Seconds': String(timeoutMs / 1000),
          ...headers,
        },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          finish({ ok: false, error: `server returned HTTP status ${response.statusCode} ${response.statusMessage ?? ''}`.trim() });
          return;
        }
        const gzip = /gzip/i.test(String(response.headers['content-encoding'] ?? ''));
        const stream = gzip ? response.pipe(createGunzip()) : response;
        const chunks: Buffer[] = [];
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_SCRAPE_BYTES) {
            request.destroy();
            finish({ ok: false, error: `body exceeds ${MAX_SCRAPE_BYTES} bytes` });
            return;
          }
          chunks.push(chunk);
        });
        stream.on('error', (err) => finish({ ok: false, error: `reading body: ${err.message}` }));
        stream.on('end', () => {
          const format = formatFromContentType(response.headers['content-type']);
          const parsed = parseExposition(Buffer.concat(chunks).toString('utf8'), format);
          if (parsed.ok) finish({ ok: true, samples: parsed.samples, format, bytes });
          else finish({ ok: false, error: `${format} parse error at line ${parsed.problem.line}, column ${parsed.problem.column}: ${parsed.problem.message}` });
        });
      },
    );
    request.on('error', (err) => finish({ ok: false, error: err.message }));
    const timer = setTimeout(() => {
      finish({ ok: false, error: `scrape timed out after ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
  });
}

/** Closes idle keep-alive sockets (for clean shutdown in tests). */
export function closeScrapeAgents(): void {
  agents.http.destroy();
  agents.https.destroy();
}
