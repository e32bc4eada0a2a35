/**
 * `vigil ack FINGERPRINT`: acknowledges an alert's current transition over the notifier's HTTP API;
 * repeats stop until the alert changes (PagerDuty receivers get `acknowledge`).
 */
import type { Command } from 'commander';
import { apiToken, callNotifyApi, DEFAULT_NOTIFY_URL, TOKEN_HELP } from './silence.js';

interface AckFlags {
  author?: string;
  comment?: string;
  url: string;
  token?: string;
}

async function ack(fingerprint: string, f: AckFlags, token: string | undefined): Promise<void> {
  const r = await callNotifyApi<{ fingerprint: string; eventId: string }>(f.url, '/api/v1/acks', 'POST', {
    fingerprint,
    author: f.author ?? process.env.USER ?? '',
    comment: f.comment ?? '',
  }, token);
  process.stdout.write(`acknowledged ${r.fingerprint} (event ${r.eventId})\n`);
}

export function register(program: Command): void {
  program
    .command('ack')
    .description("acknowledge an alert: stops repeat notifications until it changes (notifier HTTP API)")
    .argument('<fingerprint>', 'the alert fingerprint (16 hex digits)')
    .option('--author <name>', 'who (default: $USER)')
    .option('--comment <text>', 'note')
    .option('--url <url>', 'notifier API', DEFAULT_NOTIFY_URL)
    .option('--token <token>', TOKEN_HELP)
    .action((fingerprint: string, f: AckFlags) => ack(fingerprint, f, apiToken(program, f.token)));
}
