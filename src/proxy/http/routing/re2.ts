// Envoy's safe_regex is RE2; the proxy matches with JavaScript's RegExp, compiled when config arrives
// from the translation in api/re2.ts (shared with the control plane's validation). What RE2 rejects,
// and valid RE2 without a JavaScript equivalent, is refused with the reason.
import { translateRe2 } from '../../../api/re2.ts';

/** The RE2 pattern as a RegExp (full match when `anchored`), or throws with the reason. */
export function compileRe2(pattern: string, flags: string, anchored: boolean): RegExp {
  const t = translateRe2(pattern);
  if ('problem' in t) throw new Error(t.problem);
  if (t.unsupported !== null) throw new Error(`uses ${t.unsupported}`);
  const source = anchored ? `^(?:${t.source})$` : t.source;
  return new RegExp(source, t.unicode && !flags.includes('u') ? `${flags}u` : flags);
}
