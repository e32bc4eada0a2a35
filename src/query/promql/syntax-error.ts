/** Syntax and type errors of a PromQL query, and their API form. */
import { QueryError } from '../query-error.js';

/** A parse failure at a position; turned into a QueryError with line:col at the edge. */
export class PromQLSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly unsupported = false,
    /** True when the text is not in PromQL's grammar at all (not a type or value error). */
    readonly grammar = false,
  ) {
    super(message);
  }
}

/** A query that is not PromQL: `grammar` when the text is outside PromQL's grammar. */
export class PromQLParseError extends QueryError {
  constructor(
    message: string,
    position: number,
    readonly grammar: boolean,
  ) {
    super('QUERY_PARSE', message, 400, position);
  }
}

/** The error as the API reports it: `line:col: parse error: message` (1-based). */
export function toQueryError(err: PromQLSyntaxError, text: string): QueryError {
  const before = text.slice(0, err.position);
  const line = before.split('\n').length;
  const col = err.position - before.lastIndexOf('\n');
  if (err.unsupported) return new QueryError('QUERY_UNSUPPORTED', `${line}:${col}: not supported: ${err.message}`, 422, err.position);
  return new PromQLParseError(`${line}:${col}: parse error: ${err.message}`, err.position, err.grammar);
}
