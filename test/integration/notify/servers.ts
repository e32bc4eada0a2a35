/** Real servers for notifier tests: an HTTP recorder (PagerDuty / webhook) and an SMTP server. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  at: number;
}

export interface HttpRecorder {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Status to answer for a path (default 202 for /v2/enqueue, else 200); a function sees the attempt number. */
  respond(path: string, status: number | ((attempt: number) => number)): void;
  waitFor(pred: (r: RecordedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startHttpRecorder(): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const rules = new Map<string, number | ((attempt: number) => number)>();
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, n);
      const rule = rules.get(path);
      const status = typeof rule === 'function' ? rule(n) : (rule ?? (path === '/v2/enqueue' ? 202 : 200));
      if (status < 300) {
        let body: unknown = data;
        try {
          body = JSON.parse(data);
        } catch {
          /* keep text */
        }
        requests.push({ path, headers: req.headers, body, at: Date.now() });
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{"status":"success"}' : '{"error":"boom"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond: (path, status) => void rules.set(path, status),
    waitFor: (pred, timeoutMs = 20_000) => waitUntil(() => pred(requests), timeoutMs, 'HTTP requests'),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface SmtpRecorder {
  readonly url: string;
  readonly mails: ParsedMail[];
  readonly envelopes: { from: string; to: string[] }[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpRecorder(): Promise<SmtpRecorder> {
  const mails: ParsedMail[] = [];
  const envelopes: { from: string; to: string[] }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          envelopes.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    envelopes,
    waitFor: (n, timeoutMs = 20_000) => waitUntil(() => mails.length >= n, timeoutMs, `${n} mails`),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
