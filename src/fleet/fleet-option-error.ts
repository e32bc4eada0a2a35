/** An error in fleet options (bad duration, fault spec, shape); `code` is stable. */
export class FleetOptionError extends Error {
  constructor(
    message: string,
    readonly code = 'FLEET_BAD_OPTION',
  ) {
    super(message);
    this.name = 'FleetOptionError';
  }
}
