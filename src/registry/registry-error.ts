/**
 * An error answered with the Confluent error body `{"error_code": code, "message": message}`.
 * `code` is the Confluent error code (40401 ...); `status` the HTTP status.
 */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export const subjectNotFound = (subject: string): RegistryError =>
  new RegistryError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (version: string | number): RegistryError =>
  new RegistryError(404, 40402, `Version ${version} not found.`);
export const schemaNotFound = (detail = 'Schema not found'): RegistryError => new RegistryError(404, 40403, detail);
export const subjectConfigNotFound = (subject: string): RegistryError =>
  new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
export const invalidSchema = (detail: string): RegistryError =>
  new RegistryError(422, 42201, `Invalid schema: ${detail}`);
export const invalidVersion = (version: string): RegistryError =>
  new RegistryError(
    422,
    42202,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
export const invalidCompatibility = (level: unknown): RegistryError =>
  new RegistryError(422, 42203, `Invalid compatibility level: ${JSON.stringify(level)}`);
export const incompatibleSchema = (subject: string, details: string[]): RegistryError =>
  new RegistryError(
    409,
    409,
    `Schema being registered is incompatible with an earlier schema for subject "${subject}"; details: ${details.join('; ')}`,
  );
export const storeError = (detail: string): RegistryError =>
  new RegistryError(500, 50001, `Error in the backend data store: ${detail}`);
