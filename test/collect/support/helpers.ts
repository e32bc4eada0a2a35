import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SamplePublisher } from '../../../src/collect/sample-publisher.js';
import type { Sample } from '../../../src/model/types.js';

/** A publisher that keeps everything (source + samples). */
export class RecordingPublisher implements SamplePublisher {
  batches: Array<{ source: Record<string, string>; samples: Sample[] }> = [];
  saturated = false;
  async publish(source: Record<string, string>, samples: Sample[]): Promise<void> {
    this.batches.push({ source, samples });
  }
  all(): Array<Sample & { source: Record<string, string> }> {
    return this.batches.flatMap((b) => b.samples.map((s) => ({ ...s, source: b.source })));
  }
}

/** Polls `check` until it returns a truthy value (every 20 ms, up to `timeoutMs`). */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 8000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestServer {
  port: number;
  address: string;
  hits: Array<{ at: number; headers: http.IncomingHttpHeaders; url: string }>;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 with a random port that records every request. */
export async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestServer> {
  const hits: TestServer['hits'] = [];
  const server = http.createServer((req, res) => {
    hits.push({ at: Date.now(), headers: req.headers, url: req.url ?? '' });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Builds a remote_write body (snappy block of a WriteRequest) from the spec's .proto, not from the decoder's descriptor. */
export async function remoteWriteBody(request: object): Promise<Buffer> {
  const { default: protobuf } = await import('protobufjs');
  const { default: snappy } = await import('snappyjs');
  const { readFileSync } = await import('node:fs');
  const proto = readFileSync(new URL('./remote-write.proto', import.meta.url), 'utf8');
  const type = protobuf.parse(proto, { keepCase: false }).root.lookupType('prometheus.WriteRequest');
  const problem = type.verify(request);
  if (problem) throw new Error(`bad WriteRequest in test: ${problem}`);
  return Buffer.from(snappy.compress(type.encode(type.fromObject(request)).finish()));
}
