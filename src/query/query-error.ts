/** A query the API refuses: `status` is the HTTP code (400 bad query/parameter, 422 too large). */
export class QueryError extends Error {
  constructor(
    readonly code: 'QUERY_PARSE' | 'QUERY_PARAM' | 'QUERY_TOO_LARGE' | 'QUERY_UNSUPPORTED',
    message: string,
    readonly status: 400 | 422,
    /** 0-based character offset of the problem in the query text, when known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}
