/**
 * The archive in a local directory (the default, `VIGIL_ARCHIVE=./data/archive`). Objects are files
 * at `<root>/<key>`. A put writes `<root>/_tmp/<random>.parquet.tmp` (outside every `resolution=`
 * tree and not matching `*.parquet`), fsyncs it, renames it into place and fsyncs the directory: a
 * reader or a crash sees the old state or the complete file, never a partial one.
 */
import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ArchiveError } from '../archive-error.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';

export const TEMP_DIR_NAME = '_tmp';

export class LocalStore implements ObjectStore {
  readonly root: string;
  readonly url: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = `file://${this.root}`;
  }

  get localRoot(): string {
    return this.root;
  }

  async tempDir(): Promise<string> {
    const dir = join(this.root, TEMP_DIR_NAME);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep) || key.includes('\\')) throw new ArchiveError('ARCHIVE_BAD_KEY', `Key "${key}" escapes the archive root`);
    return path;
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.pathOf(key);
    const tmp = join(await this.tempDir(), `${randomBytes(8).toString('hex')}.parquet.tmp`);
    try {
      // Same filesystem: a rename; elsewhere (a temp file in os.tmpdir()): a copy first.
      await rename(path, tmp).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        await copyFile(path, tmp);
        await unlink(path);
      });
      await fsyncPath(tmp);
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
      await fsyncPath(dirname(target));
    } catch (err) {
      await rm(tmp, { force: true });
      throw new ArchiveError('ARCHIVE_STORAGE', `Cannot store ${this.url}/${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    // Walk only the directories that can hold keys with this prefix.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    await this.walk(dirKey, prefix, out);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  private async walk(dirKey: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ArchiveError('ARCHIVE_STORAGE', `Cannot list ${this.url}/${dirKey}: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      const key = dirKey + e.name;
      if (e.isDirectory()) {
        if (dirKey === '' && e.name === TEMP_DIR_NAME) continue;
        const sub = `${key}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) await this.walk(sub, prefix, out);
      } else if (e.isFile() && key.startsWith(prefix) && !e.name.endsWith('.tmp')) {
        const s = await stat(join(this.root, key)).catch(() => undefined);
        if (s) out.push({ key, size: s.size });
      }
    }
  }

  async getFile(key: string, path: string): Promise<void> {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await copyFile(this.pathOf(key), tmp, constants.COPYFILE_FICLONE);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArchiveError('ARCHIVE_NOT_FOUND', `No object ${this.url}/${key}`, { cause: err });
      throw new ArchiveError('ARCHIVE_STORAGE', `Cannot read ${this.url}/${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await rm(path, { force: true });
      dirs.add(dirname(path));
    }
    for (const dir of dirs) await fsyncPath(dir).catch(() => undefined);
    // Empty hour/date directories go too, so retention leaves no husks behind.
    for (const dir of dirs) await removeEmptyParents(dir, this.root);
  }

  async close(): Promise<void> {}

  /** A readable stream of an object (for tests and tools). */
  stream(key: string): NodeJS.ReadableStream {
    return createReadStream(this.pathOf(key));
  }
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeEmptyParents(dir: string, root: string): Promise<void> {
  let d = dir;
  while (d.startsWith(root + sep)) {
    try {
      if ((await readdir(d)).length > 0) return;
      await rmdir(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}
