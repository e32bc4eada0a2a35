/** An in-process s3rver (a real S3 API server) for archive tests, with one empty bucket. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types.
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Client settings for S3Store (s3rver's fixed credentials). */
  client: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Environment for a child process using the same server. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'vigil-archive'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    client: { region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', VIGIL_S3_ENDPOINT: endpoint },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Registers beforeAll/afterAll that run one s3rver for the file; the getter throws before beforeAll ran. */
export function useS3(): () => TestS3 {
  let s3: TestS3 | undefined;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.stop();
    s3 = undefined;
  });
  return () => {
    if (!s3) throw new Error('useS3(): not running here (use it inside tests)');
    return s3;
  };
}
