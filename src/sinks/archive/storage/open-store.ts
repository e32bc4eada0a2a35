/** Opens the archive's ObjectStore from `config.archive`: `s3://...` roots go to S3, anything else is a directory. */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { VigilConfig } from '../../../config/config.js';
import { LocalStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store } from './s3-store.js';

export function openObjectStore(archive: Pick<VigilConfig['archive'], 'root' | 's3Endpoint'>, s3Client?: S3ClientConfig): ObjectStore {
  if (archive.root.startsWith('s3://')) return new S3Store({ url: archive.root, endpoint: archive.s3Endpoint, client: s3Client });
  return new LocalStore(archive.root);
}
