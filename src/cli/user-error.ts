/** An error the user can fix (bad input, failed checks): printed without a stack, exit code 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly code = 'USER_ERROR',
  ) {
    super(message);
    this.name = 'UserError';
  }
}
