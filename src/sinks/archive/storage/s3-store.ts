/**
 * The archive in S3 or an S3-compatible store (MinIO, s3rver...): `s3://bucket/prefix`, endpoint from
 * VIGIL_S3_ENDPOINT (path-style addressing for non-AWS endpoints). A PUT makes an object visible
 * only when the whole body has arrived, so uploading the complete local file is atomic; S3 offers
 * no rename, so nothing partial is ever written under a final key.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { ArchiveError } from '../archive-error.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';

// The SDK warns on every Node 20 process that future SDK releases will need Node 22; Vigil pins its
// SDK version and supports Node 20 (package.json engines), so the warning is noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `s3://bucket/prefix` split; the prefix has no leading slash and ends with `/` unless empty. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new ArchiveError('ARCHIVE_BAD_ROOT', `Invalid archive root "${url}": expected s3://bucket[/prefix]`);
  let prefix = (m[2] ?? '').replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: m[1]!, prefix };
}

export interface S3StoreOptions {
  /** `s3://bucket/prefix`. */
  url: string;
  /** Endpoint of a non-AWS store; enables path-style addressing. */
  endpoint?: string;
  /** Extra client settings (credentials, region) for tests and unusual setups. */
  client?: S3ClientConfig;
}

export class S3Store implements ObjectStore {
  readonly url: string;
  readonly localRoot = undefined;
  readonly bucket: string;
  readonly prefix: string;
  private readonly s3: S3Client;
  private temp: string | undefined;

  constructor(options: S3StoreOptions) {
    const { bucket, prefix } = parseS3Url(options.url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.url = `s3://${bucket}/${prefix}`.replace(/\/$/, '');
    this.s3 = new S3Client({
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      // Non-AWS stores (s3rver, older MinIO) keep aws-chunked bodies verbatim: checksum only when required.
      ...(options.endpoint
        ? { endpoint: options.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
      ...options.client,
    });
  }

  async tempDir(): Promise<string> {
    this.temp ??= await mkdtemp(join(tmpdir(), 'vigil-archive-'));
    return this.temp;
  }

  async putFile(key: string, path: string): Promise<void> {
    try {
      const { size } = await stat(path);
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
      await rm(path, { force: true });
    } catch (err) {
      throw this.failure('store', key, err);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key) out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.failure('list', prefix, err);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  async getFile(key: string, path: string): Promise<void> {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      await mkdir(dirname(path), { recursive: true });
      await pipeline(res.Body as Readable, createWriteStream(tmp));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new ArchiveError('ARCHIVE_NOT_FOUND', `No object ${this.url}/${key}`, { cause: err });
      throw this.failure('read', key, err);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      try {
        const res = await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((k) => ({ Key: this.prefix + k })), Quiet: true },
          }),
        );
        const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0) throw new Error(`${failed.length} deletes failed, first: ${failed[0]!.Key}: ${failed[0]!.Message}`);
      } catch (err) {
        throw this.failure('delete', chunk[0]!, err);
      }
    }
  }

  async close(): Promise<void> {
    this.s3.destroy();
    if (this.temp) await rm(this.temp, { recursive: true, force: true });
  }

  private failure(what: string, key: string, err: unknown): ArchiveError {
    return new ArchiveError('ARCHIVE_STORAGE', `Cannot ${what} ${this.url}/${key}: ${(err as Error).message}`, { cause: err });
  }
}
