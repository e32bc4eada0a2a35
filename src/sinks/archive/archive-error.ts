/** Stable codes of archive failures (storage, layout, writer, jobs). */
export type ArchiveErrorCode =
  | 'ARCHIVE_BAD_ROOT'
  | 'ARCHIVE_BAD_KEY'
  | 'ARCHIVE_NOT_FOUND'
  | 'ARCHIVE_STORAGE'
  | 'ARCHIVE_WRITE'
  | 'ARCHIVE_READ'
  | 'ARCHIVE_QUERY'
  | 'ARCHIVE_BAD_OPTION';

/** An archive failure; `code` is stable, the message names the object or setting involved. */
export class ArchiveError extends Error {
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}
