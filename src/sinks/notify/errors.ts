/** Errors of the notifier, each with a stable `code`. */

/** The notification config (routes, receivers, inhibits) is wrong: a start-up error. */
export class NotifyConfigError extends Error {
  readonly code = 'NOTIFY_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'NotifyConfigError';
  }
}

/** A silence or acknowledgement request is invalid; `field` names the wrong field (HTTP 400). */
export class RequestValidationError extends Error {
  readonly code = 'NOTIFY_REQUEST_INVALID';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`"${field}": ${message}`);
    this.name = 'RequestValidationError';
  }
}

/** A referenced silence does not exist (HTTP 404). */
export class NotFoundError extends Error {
  readonly code = 'NOTIFY_NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The HTTP API was asked before the notifier started (HTTP 503). */
export class NotReadyError extends Error {
  readonly code = 'NOTIFY_NOT_READY';
  constructor() {
    super('the notifier is starting');
    this.name = 'NotReadyError';
  }
}
