/**
 * HTTPS from certificate files, like Prometheus's web config (`tls_server_config`): a certificate
 * and key in PEM, optionally a CA bundle for client certificates with Prometheus's client auth
 * types `RequireAndVerifyClientCert` (the default when a CA is given) or `VerifyClientCertIfGiven`.
 * Files are read once at start; a missing or unreadable file is a TlsConfigError naming it.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCAFile?: string;
  readonly clientAuth?: 'RequireAndVerifyClientCert' | 'VerifyClientCertIfGiven';
}

/** Options for node's https.createServer (fastify's `https`). */
export interface HttpsServerOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export class TlsConfigError extends Error {
  readonly code = 'TLS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`http.tls.${key}: cannot read "${path}": ${(err as Error).message}`);
  }
}

/** Reads the files. Throws TlsConfigError naming the setting whose file cannot be read. */
export function httpsOptions(files: TlsFiles): HttpsServerOptions {
  if (files.clientAuth && !files.clientCAFile) {
    throw new TlsConfigError(`http.tls.clientAuth "${files.clientAuth}" needs http.tls.clientCAFile (the CA that client certificates must chain to)`);
  }
  const out: HttpsServerOptions = { cert: read(files.certFile, 'certFile'), key: read(files.keyFile, 'keyFile'), requestCert: false, rejectUnauthorized: false };
  if (files.clientCAFile) {
    out.ca = read(files.clientCAFile, 'clientCAFile');
    out.requestCert = true;
    // VerifyClientCertIfGiven lets a client without a certificate through; `refusesClient` checks a given one.
    out.rejectUnauthorized = (files.clientAuth ?? 'RequireAndVerifyClientCert') === 'RequireAndVerifyClientCert';
  }
  return out;
}

/**
 * With VerifyClientCertIfGiven the TLS layer accepts every client: a client that did present a
 * certificate which does not verify is refused here (the reason), one without a certificate passes.
 */
export function refusedClientCertificate(socket: TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  return `the client certificate is not valid: ${String(socket.authorizationError ?? 'unknown reason')}`;
}
