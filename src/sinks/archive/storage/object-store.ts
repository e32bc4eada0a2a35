/**
 * Where archive objects live: one interface over a local directory and S3 (see local-store.ts,
 * s3-store.ts). Keys are relative to the archive root and use `/`.
 *
 * Guarantees every implementation keeps (checked by one shared contract test):
 * - `putFile` is atomic and durable: readers see the whole object or no object, never a partial one,
 *   and once the promise resolves the object survives a crash of this process. Putting an existing
 *   key replaces it whole (a replay rewrites the same name).
 * - `list(prefix)` returns every complete object whose key starts with `prefix`, sorted by key, never
 *   a temporary or partial one.
 * - `delete` of a missing key is not an error.
 */
export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** `file:///abs/dir` or `s3://bucket/prefix`: for logs and messages. */
  readonly url: string;
  /**
   * The directory holding the objects when they are plain local files (readers may open
   * `join(localRoot, key)` directly); undefined for remote stores.
   */
  readonly localRoot: string | undefined;
  /** A directory for this store's temporary files (on the same filesystem as the objects when local). */
  tempDir(): Promise<string>;
  /** Stores the complete local file `path` under `key` (atomically; see above). The file is consumed. */
  putFile(key: string, path: string): Promise<void>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Copies object `key` to the local file `path` (written under a temporary name, then renamed). */
  getFile(key: string, path: string): Promise<void>;
  /** Deletes objects; missing ones are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Releases clients; the store is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Replaces `superseded` objects by one new object at `key`, in the order that keeps readers safe:
 * the new object is durable before any old one is deleted. Together with the supersession rule of
 * layout.ts (`liveObjects`), a reader sees either the parts or the merged object, never both or neither.
 */
export async function replaceObjects(store: ObjectStore, key: string, path: string, superseded: readonly string[]): Promise<void> {
  await store.putFile(key, path);
  await store.delete(superseded.filter((k) => k !== key));
}
