/**
 * Email subject and text templates: `{{ path }}` with optional `| upper` / `| lower`, over the
 * notification's data (status, receiver, firing, resolved, groupLabels.x, commonLabels.x,
 * commonAnnotations.x). Templates cannot run code; an unknown name is a start-up error. The HTML
 * part escapes every value.
 */
import { NotifyConfigError } from '../errors.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*(?:\|\s*(upper|lower)\s*)?\}\}/g;
const ROOTS = new Set(['status', 'receiver', 'firing', 'resolved', 'alertname', 'groupLabels', 'commonLabels', 'commonAnnotations']);
const MAPS = new Set(['groupLabels', 'commonLabels', 'commonAnnotations']);

export interface EmailTemplateData {
  status: string;
  receiver: string;
  firing: number;
  resolved: number;
  alertname: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
}

/** Throws NotifyConfigError when the template names something that does not exist. */
export function checkEmailTemplate(template: string, where: string): void {
  const rest = template.replace(PLACEHOLDER, (_m, path: string) => {
    const [root, sub] = path.split('.');
    if (!ROOTS.has(root!) || (sub !== undefined) !== MAPS.has(root!)) {
      throw new NotifyConfigError(`${where}: unknown template name "${path}"`);
    }
    return '';
  });
  if (rest.includes('{{')) throw new NotifyConfigError(`${where}: malformed template near "${rest.slice(rest.indexOf('{{'), rest.indexOf('{{') + 20)}"`);
}

export function renderEmailTemplate(template: string, data: EmailTemplateData): string {
  return template.replace(PLACEHOLDER, (_m, path: string, filter?: string) => {
    const [root, sub] = path.split('.') as [keyof EmailTemplateData, string | undefined];
    const v = data[root];
    let s = sub !== undefined ? ((v as Record<string, string>)[sub] ?? '') : String(v);
    if (filter === 'upper') s = s.toUpperCase();
    if (filter === 'lower') s = s.toLowerCase();
    return s;
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
