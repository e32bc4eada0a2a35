/** Builds the email for a notification: one message per group, text + HTML with escaped values. */
import type { NotifyAlert } from '../alert.js';
import { isResolved } from '../alert.js';
import { formatMatcher } from '../matchers.js';
import { commonOf, notificationStatus, type Notification } from '../notification.js';
import { escapeHtml, renderEmailTemplate, type EmailTemplateData } from './email-template.js';

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface EmailTemplates {
  subject?: string;
  text?: string;
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(', ');
}

function alertLines(a: NotifyAlert): string[] {
  const lines = [`- [${isResolved(a) ? 'RESOLVED' : 'FIRING'}] ${a.alertname} {${labelsText(a.labels)}}`];
  if (a.value !== null) lines.push(`  value: ${a.value}`);
  for (const [k, v] of Object.entries(a.annotations)) lines.push(`  ${k}: ${v}`);
  lines.push(`  since: ${new Date(a.startsAt).toISOString()}${a.endsAt !== null ? `, resolved: ${new Date(a.endsAt).toISOString()}` : ''}`);
  lines.push(`  fingerprint: ${a.fingerprint}`);
  return lines;
}

function alertRowHtml(a: NotifyAlert): string {
  const ann = Object.entries(a.annotations)
    .map(([k, v]) => `<div><b>${escapeHtml(k)}</b>: ${escapeHtml(v)}</div>`)
    .join('');
  return (
    `<tr><td>${isResolved(a) ? 'RESOLVED' : 'FIRING'}</td><td>${escapeHtml(a.alertname)}</td>` +
    `<td>${escapeHtml(labelsText(a.labels))}</td><td>${a.value === null ? '' : escapeHtml(String(a.value))}</td>` +
    `<td>${ann}</td><td>${escapeHtml(new Date(a.startsAt).toISOString())}</td></tr>`
  );
}

function tableHtml(alerts: readonly NotifyAlert[]): string {
  return (
    '<table border="1" cellpadding="4" cellspacing="0"><tr><th>status</th><th>alert</th><th>labels</th>' +
    `<th>value</th><th>annotations</th><th>since</th></tr>${alerts.map(alertRowHtml).join('')}</table>`
  );
}

function page(title: string, intro: string, alerts: readonly NotifyAlert[]): string {
  return (
    `<!doctype html><html><body><h2>${escapeHtml(title)}</h2>` +
    `<p style="white-space:pre-wrap">${escapeHtml(intro)}</p>${alerts.length ? tableHtml(alerts) : ''}</body></html>`
  );
}

export function emailContent(n: Notification, templates: EmailTemplates): EmailContent {
  if (n.kind === 'silence') {
    const s = n.silence;
    const subject = `[SILENCE ${n.action.toUpperCase()}] ${s.matchers.map(formatMatcher).join(', ')} by ${s.createdBy}`;
    const intro =
      `Silence ${s.id} ${n.action} by ${s.createdBy}: ${s.comment}\n` +
      `matchers: ${s.matchers.map(formatMatcher).join(', ')}\n` +
      `from ${new Date(s.startsAt).toISOString()} until ${new Date(s.endsAt).toISOString()}\n` +
      `matching alerts: ${n.alerts.length}`;
    return { subject, text: [intro, '', ...n.alerts.flatMap(alertLines)].join('\n'), html: page(subject, intro, n.alerts) };
  }
  if (n.kind === 'ack') {
    const subject = `[ACK] ${n.alert.alertname} {${labelsText(n.alert.labels)}} by ${n.author}`;
    const intro = `${n.author} acknowledged this alert${n.comment ? `: ${n.comment}` : ''}`;
    return { subject, text: [intro, '', ...alertLines(n.alert)].join('\n'), html: page(subject, intro, [n.alert]) };
  }
  const firing = n.alerts.filter((a) => !isResolved(a)).length;
  const common = commonOf(n.alerts.map((a) => a.labels));
  const data: EmailTemplateData = {
    status: notificationStatus(n),
    receiver: n.receiver,
    firing,
    resolved: n.alerts.length - firing,
    alertname: common.alertname ?? n.alerts[0]?.alertname ?? '',
    groupLabels: { ...n.groupLabels },
    commonLabels: common,
    commonAnnotations: commonOf(n.alerts.map((a) => a.annotations)),
  };
  const groupText = Object.entries(n.groupLabels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const subject = templates.subject
    ? renderEmailTemplate(templates.subject, data)
    : `[${data.status.toUpperCase()}${firing ? `:${firing}` : ''}] ${data.alertname}${groupText ? ` ${groupText}` : ''}`;
  const intro = templates.text
    ? renderEmailTemplate(templates.text, data)
    : `${firing} firing, ${data.resolved} resolved (receiver ${n.receiver}, ${n.reason})`;
  return { subject, text: [intro, '', ...n.alerts.flatMap(alertLines)].join('\n'), html: page(subject, intro, n.alerts) };
}
