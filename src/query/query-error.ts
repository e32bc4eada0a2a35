/**
 * A query the API refuses: `status` is the HTTP code and decides Prometheus' `errorType`
 * (400 bad_data: bad query or parameter; 422 execution: too large, unsupported or failed during
 * evaluation; 503 timeout).
 */
export class QueryError extends Error {
  constructor(
    readonly code: 'QUERY_PARSE' | 'QUERY_PARAM' | 'QUERY_TOO_LARGE' | 'QUERY_UNSUPPORTED' | 'QUERY_EXEC' | 'QUERY_TIMEOUT',
    message: string,
    readonly status: 400 | 422 | 503,
    /** 0-based character offset of the problem in the query text, when known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'QueryError';
  }

  /** Prometheus' errorType for this error. */
  get errorType(): 'bad_data' | 'execution' | 'timeout' {
    return this.status === 400 ? 'bad_data' : this.status === 503 ? 'timeout' : 'execution';
  }
}
