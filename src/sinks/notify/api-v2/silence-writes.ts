/**
 * Changing a silence, for both HTTP APIs (v1 and Alertmanager's v2): publish it on the silences
 * topic first (so every notifier instance gets it and a restart keeps it), then apply it here and
 * wake the timer. Expiring follows Alertmanager: an active silence ends now, a pending one starts
 * and ends now, an expired one stays as it is.
 */
import type { NotifyApiDeps } from '../notify-http.js';
import { silenceState, type Silence } from '../silences.js';

/** Publishes and applies a new or changed silence. */
export async function commitSilence(d: NotifyApiDeps, s: Silence, now: number): Promise<void> {
  await d.publishSilence(s);
  d.core.applySilence(s, now);
  d.changed?.();
}

/** Expires a silence now (nothing to do when it has already expired); returns it as it is then. */
export async function expireSilence(d: NotifyApiDeps, s: Silence, now: number): Promise<Silence> {
  if (silenceState(s, now) === 'expired') return s;
  const expired: Silence = { ...s, startsAt: Math.min(s.startsAt, now), endsAt: now, updatedAt: now };
  await commitSilence(d, expired, now);
  return expired;
}
