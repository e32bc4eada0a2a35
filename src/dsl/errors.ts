/**
 * The one user-facing error of the rules language. Every problem found in a rules file (syntax,
 * unknown names, bad regexes, ...) is a RuleError with a stable `code`, the file and a 1-based
 * line and column. The checker collects them; `formatRuleError` prints them for humans.
 */
import type { Span } from './span.js';

/** Stable error codes: tools and tests may rely on them. */
export type RuleErrorCode =
  | 'SYNTAX'
  | 'BAD_STRING'
  | 'BAD_NAME'
  | 'BAD_DURATION'
  | 'UNKNOWN_FUNCTION'
  | 'BAD_ARGUMENTS'
  | 'BAD_REGEX'
  | 'JOIN_MISMATCH'
  | 'DUPLICATE_NAME'
  | 'DUPLICATE_SETTING'
  | 'MISSING_SETTING'
  | 'UNKNOWN_RECEIVER'
  | 'RECORDING_CYCLE'
  | 'TEMPLATE'
  | 'NOT_WINDOW_MULTIPLE'
  | 'DUPLICATE_DEFAULTS'
  | 'TYPE'
  | 'BAD_SETTING'
  | 'FILE';

export class RuleError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  constructor(
    readonly code: RuleErrorCode,
    message: string,
    at: { file: string; line: number; col: number; offset: number },
  ) {
    super(message);
    this.name = 'RuleError';
    this.file = at.file;
    this.line = at.line;
    this.column = at.col;
    this.offset = at.offset;
  }

  /** `file:line:col: message`, the line a golden test compares. */
  get location(): string {
    return `${this.file}:${this.line}:${this.column}: ${this.message}`;
  }
}

/** Shortcut used by the checker: an error at the start of a node's span. */
export function errorAt(code: RuleErrorCode, message: string, span: Span): RuleError {
  return new RuleError(code, message, span);
}

/**
 * Prints an error as `file:line:col: message`, then the source line and a caret under the column.
 * `source` is the file's text; without it only the first line is printed.
 */
export function formatRuleError(err: RuleError, source?: string): string {
  const head = err.location;
  if (source === undefined) return head;
  const lines = source.split(/\r?\n/);
  const text = lines[err.line - 1];
  if (text === undefined) return head;
  const caretPad = text.slice(0, Math.max(0, err.column - 1)).replace(/[^\t]/g, ' ');
  return `${head}\n${text}\n${caretPad}^`;
}

/** Sorts errors by file, then position, so output is stable. */
export function sortErrors(errors: RuleError[]): RuleError[] {
  return [...errors].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset || a.message.localeCompare(b.message),
  );
}
