/**
 * Email through nodemailer: SMTP when a URL is configured (VIGIL_SMTP_URL), otherwise one `.eml`
 * file per notification in the outbox directory. Message-ID is derived from the idempotency key,
 * so a resend after a crash is recognisable (and overwrites the same outbox file).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { EmailReceiverConfig } from '../notify-config.js';
import { forChannel, type Notification } from '../notification.js';
import { failed, SENT, type Receiver, type SendResult } from '../receiver.js';
import { checkEmailTemplate } from './email-template.js';
import { emailContent } from './email-message.js';

export interface EmailTransportOptions {
  /** smtp://[user:pass@]host:port; undefined = write .eml files to `outbox`. */
  smtpUrl?: string;
  outbox: string;
  from: string;
}

export function messageIdOf(key: string): string {
  return `<${key}@vigil>`;
}

/** SMTP permanent failures (5xx) are not retried; connection problems and 4xx are. */
function smtpFailure(err: unknown, name: string): SendResult {
  const e = err as Error & { responseCode?: number };
  const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
  return failed(`email "${name}": ${e.message}`, !permanent);
}

export class EmailReceiver implements Receiver {
  readonly type = 'email';
  readonly name: string;
  private readonly transport?: Transporter;

  constructor(
    private readonly config: EmailReceiverConfig,
    private readonly options: EmailTransportOptions,
  ) {
    this.name = config.name;
    if (config.subject) checkEmailTemplate(config.subject, `receiver "${config.name}" subject`);
    if (config.text) checkEmailTemplate(config.text, `receiver "${config.name}" text`);
    if (options.smtpUrl) this.transport = nodemailer.createTransport(options.smtpUrl);
  }

  accepts(): boolean {
    return true;
  }

  mail(n: Notification): Mail.Options {
    const content = emailContent(n, {
      ...(this.config.subject ? { subject: this.config.subject } : {}),
      ...(this.config.text ? { text: this.config.text } : {}),
    });
    return {
      from: this.config.from ?? this.options.from,
      to: [...this.config.to],
      subject: content.subject,
      text: content.text,
      html: content.html,
      messageId: messageIdOf(n.key),
      date: new Date(n.createdAt),
      headers: { 'X-Vigil-Idempotency-Key': n.key },
    };
  }

  async send(notification: Notification): Promise<SendResult> {
    const n = forChannel(notification, this.config.sendResolved);
    if (!n) return SENT;
    const mail = this.mail(n);
    if (this.transport) {
      try {
        await this.transport.sendMail(mail);
        return SENT;
      } catch (err) {
        return smtpFailure(err, this.name);
      }
    }
    try {
      const raw = await new MailComposer(mail).compile().build();
      await mkdir(this.options.outbox, { recursive: true });
      const path = join(this.options.outbox, `${n.key}.eml`);
      await writeFile(`${path}.tmp`, raw);
      await rename(`${path}.tmp`, path);
      return SENT;
    } catch (err) {
      return failed(`email "${this.name}": outbox: ${(err as Error).message}`, true);
    }
  }

  async close(): Promise<void> {
    this.transport?.close();
  }
}
