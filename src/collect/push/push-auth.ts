/**
 * Token authentication of the push endpoint (VIGIL_PUSH_TOKENS): `Authorization: Token <t>` or
 * `Bearer <t>` (InfluxDB v2, remote_write), `Basic` with the token as password, or the InfluxDB
 * v1 `u`/`p` query parameters (`p` is the token).
 */
import { timingSafeEqual, createHash } from 'node:crypto';

export type AuthResult = 'ok' | 'missing' | 'wrong';

/** The credential a request presents, or undefined when it presents none. */
export function presentedToken(authorization: string | undefined, query: Record<string, unknown>): string | undefined {
  if (authorization) {
    const m = /^\s*(Token|Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return authorization; // present but malformed: checked (and refused) like a wrong token
    if (m[1]!.toLowerCase() !== 'basic') return m[2];
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  const p = query.p;
  return typeof p === 'string' && p !== '' ? p : undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Checks a presented token against the accepted ones in constant time per token. */
export class TokenChecker {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  check(authorization: string | undefined, query: Record<string, unknown>): AuthResult {
    const token = presentedToken(authorization, query);
    if (token === undefined) return 'missing';
    const d = digest(token);
    let ok = false;
    for (const accepted of this.digests) ok = timingSafeEqual(d, accepted) || ok;
    return ok ? 'ok' : 'wrong';
  }
}
