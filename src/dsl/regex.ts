/**
 * Matcher regexes: RE2-like syntax, fully anchored. JavaScript's engine runs them, so constructs RE2
 * rejects (backreferences, lookaround, atomic groups, possessive quantifiers) are refused up front:
 * a rule that passes `vigil rules check` means the same thing in Prometheus/Alertmanager.
 */

const UNSUPPORTED: { re: RegExp; what: string }[] = [
  { re: /\\[1-9]/, what: 'backreferences (\\1) are not supported' },
  { re: /\\k</, what: 'named backreferences (\\k<...>) are not supported' },
  { re: /\(\?<?[=!]/, what: 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported' },
  { re: /\(\?>/, what: 'atomic groups ((?>...)) are not supported' },
  { re: /[*+?}]\+/, what: 'possessive quantifiers (*+, ++, ?+) are not supported' },
];

/** Compiles `source` anchored at both ends; returns an error message (without position) when invalid. */
export function compileMatcherRegex(source: string): RegExp | string {
  let body = source;
  let flags = '';
  // RE2 flag group at the start, e.g. (?i); JavaScript only has the flags as RegExp options.
  const flagGroup = /^\(\?([imsU]+)\)/.exec(body);
  if (flagGroup) {
    for (const f of flagGroup[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else return `flag "${f}" is not supported`;
    }
    body = body.slice(flagGroup[0].length);
  }
  const stripped = body.replace(/\\\\/g, '');
  for (const u of UNSUPPORTED) if (u.re.test(stripped)) return u.what;
  for (const m of stripped.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
    if (Number(m[1]) > 1000 || (m[2] && Number(m[2]) > 1000)) return 'repeat counts above 1000 are not supported (RE2 limit)';
  }
  // RE2 spells named groups (?P<name>...); JavaScript wants (?<name>...).
  const js = body.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(`^(?:${js})$`, flags);
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
  }
}
