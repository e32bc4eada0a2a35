/** Syntax and type errors of a PromQL query, and their API form. */
import { QueryError } from '../query-error.js';

/** A parse failure at a position; turned into a QueryError with line:col at the edge. */
export class PromQLSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** The error as the API reports it: `line:col: parse error: message` (1-based). */
export function toQueryError(err: PromQLSyntaxError, text: string): QueryError {
  const before = text.slice(0, err.position);
  const line = before.split('\n').length;
  const col = err.position - before.lastIndexOf('\n');
  if (err.unsupported) return new QueryError('QUERY_UNSUPPORTED', `${line}:${col}: not supported: ${err.message}`, 422, err.position);
  return new QueryError('QUERY_PARSE', `${line}:${col}: parse error: ${err.message}`, 400, err.position);
}
