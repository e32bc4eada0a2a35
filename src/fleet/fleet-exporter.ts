/**
 * Serves the simulated hosts as Prometheus exporters, for the pull path (`vigil collect`): one
 * HTTP server on 127.0.0.1, one path per host (`/hosts/<host>/metrics`), and a Prometheus file_sd
 * list with one target group per host (`__metrics_path__` tells the scraper which host it is).
 * GET / lists the hosts; GET /file_sd.json returns the same list as the file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rename, writeFile } from 'node:fs/promises';
import type { FleetHost, HostTick } from './fleet-model.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import type { Sample } from '../model/types.js';

/** One file_sd target group (Prometheus `file_sd_configs` format). */
export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

export class FleetExporter {
  private readonly latest = new Map<string, Sample[]>();
  private readonly byName = new Map<string, FleetHost>();
  private server: Server | undefined;
  private address: { host: string; port: number } | undefined;
  /** Scrapes served so far. */
  scrapes = 0;

  constructor(hosts: readonly FleetHost[]) {
    for (const h of hosts) this.byName.set(h.host, h);
  }

  /** The fleet runner's sink: remembers the latest samples of the host. */
  update(tick: HostTick): void {
    this.latest.set(tick.host.host, tick.samples);
  }

  /** Starts the HTTP server on `host:port` (port 0 = any free port); resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('exporter server has no TCP address');
    this.address = { host, port: addr.port };
    return addr.port;
  }

  /** Base URL of the server, e.g. http://127.0.0.1:9100 (after listen). */
  get url(): string {
    if (!this.address) throw new Error('FleetExporter.url read before listen()');
    return `http://${this.address.host}:${this.address.port}`;
  }

  /** One target group per host: the server's address, the host's path, and its source labels. */
  fileSd(): FileSdGroup[] {
    if (!this.address) throw new Error('FleetExporter.fileSd() called before listen()');
    const target = `${this.address.host}:${this.address.port}`;
    return [...this.byName.values()].map((h) => ({
      targets: [target],
      labels: { ...h.source, instance: h.host, __metrics_path__: hostPath(h.host) },
    }));
  }

  /** Writes the file_sd list to `path` atomically (temporary file, then rename), for hot reload. */
  async writeFileSd(path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(this.fileSd(), null, 2)}\n`);
    await rename(tmp, path);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'Only GET is supported\n', { Allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') {
      const lines = [...this.byName.keys()].map((h) => `${hostPath(h)}\n`);
      return reply(res, 200, `Simulated Vigil fleet: ${this.byName.size} hosts\n${lines.join('')}`);
    }
    if (path === '/file_sd.json') return reply(res, 200, JSON.stringify(this.fileSd()), { 'Content-Type': 'application/json' });
    const m = /^\/hosts\/([^/]+)\/metrics$/.exec(path);
    if (!m) return reply(res, 404, `Not found: "${path}"; hosts are served at /hosts/<host>/metrics\n`);
    const host = decodeURIComponent(m[1]!);
    if (!this.byName.has(host)) return reply(res, 404, `No simulated host "${host}"\n`);
    const samples = this.latest.get(host);
    if (!samples) return reply(res, 503, `Host "${host}" has no samples yet\n`);
    this.scrapes++;
    reply(res, 200, renderExposition(samples), { 'Content-Type': EXPOSITION_CONTENT_TYPE });
  }
}

/** The metrics path of a host. */
export function hostPath(host: string): string {
  return `/hosts/${encodeURIComponent(host)}/metrics`;
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
