/**
 * The moo lexer of the rules language, wrapped so the nearley parser never sees whitespace or
 * comments. Token types: duration, number, string, name, and punctuation / operators (their own
 * text is their type). Words such as `alert` or `when` are plain names; the grammar matches them by
 * value, so a label or metric may still be called `window`.
 */
import moo from 'moo';
import { RuleError } from './errors.js';

const UNIT = '(?:ms|s|m|h|d|w)';

const rules: moo.Rules = {
  ws: /[ \t\r]+/,
  nl: { match: /\n/, lineBreaks: true },
  comment: /#[^\n]*/,
  duration: new RegExp(`\\d+${UNIT}(?:\\d+${UNIT})*(?![A-Za-z0-9_.:])`),
  number: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.:])/,
  badnumber: /\d[A-Za-z0-9_.:]*/,
  string: { match: /"(?:\\[^\n]|[^"\\\n])*"/ },
  unterminated: /"(?:\\[^\n]|[^"\\\n])*/,
  // Metric names may hold dots and colons, rule/receiver names dashes between word characters.
  name: /[A-Za-z_:][A-Za-z0-9_:.]*(?:-[A-Za-z0-9_]+)*/,
  '=~': '=~',
  '!~': '!~',
  '==': '==',
  '!=': '!=',
  '>=': '>=',
  '<=': '<=',
  '>': '>',
  '<': '<',
  '=': '=',
  '{': '{',
  '}': '}',
  '(': '(',
  ')': ')',
  ',': ',',
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  invalid: { match: /[^]/, lineBreaks: true },
};

export interface Token {
  type: string;
  value: string;
  text: string;
  offset: number;
  line: number;
  col: number;
  lineBreaks: number;
}

/** Decodes a string literal's escapes (`\"`, `\\`, `\n`, `\t`); throws RuleError on any other. */
export function decodeString(tok: Token, file: string): string {
  const body = tok.text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === '"' || n === '\\') out += n;
    else if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else {
      throw new RuleError('BAD_STRING', `unknown escape "\\${n}" in string (use \\", \\\\ or \\n)`, {
        file,
        line: tok.line,
        col: tok.col + i,
        offset: tok.offset + i,
      });
    }
  }
  return out;
}

/** A nearley-compatible lexer that skips whitespace and comments and reports bad characters. */
export class RulesLexer {
  private readonly inner = moo.compile(rules);
  file = '<input>';

  reset(chunk: string, info?: unknown): void {
    this.lastError = null;
    this.inner.reset(chunk, info as moo.LexerState | undefined);
  }

  next(): Token | undefined {
    for (;;) {
      const tok = this.inner.next() as Token | undefined;
      if (!tok) return undefined;
      if (tok.type === 'ws' || tok.type === 'nl' || tok.type === 'comment') continue;
      if (tok.type === 'unterminated') throw this.error(tok, 'unterminated string: missing closing "');
      if (tok.type === 'badnumber') throw this.error(tok, `bad number or duration ${JSON.stringify(tok.text)} (durations look like 30s, 5m, 1h30m)`);
      if (tok.type === 'invalid') throw this.error(tok, `unexpected character ${JSON.stringify(tok.text)}`);
      if (tok.type === 'string') {
        try {
          (tok as Token & { decoded: string }).decoded = decodeString(tok, this.file);
        } catch (err) {
          throw (this.lastError = err as RuleError);
        }
      }
      return tok;
    }
  }

  save(): moo.LexerState {
    return this.inner.save();
  }

  formatError(tok: Token): string {
    return `unexpected ${JSON.stringify(tok.text)}`;
  }

  has(type: string): boolean {
    return type in rules;
  }

  /** The RuleError of the last failed next() (nearley wraps lexer exceptions; parse.ts rethrows this). */
  lastError: RuleError | null = null;

  private error(tok: Token, message: string): RuleError {
    return (this.lastError = new RuleError('SYNTAX', message, { file: this.file, line: tok.line, col: tok.col, offset: tok.offset }));
  }
}
