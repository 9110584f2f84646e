// Regular expressions in Istio resources are RE2 (Envoy's safe_regex; Istio validates them with Go's
// regexp). Until Weft has an RE2 engine, a pattern is valid when re2.ts finds nothing RE2 rejects in
// it and its JavaScript translation compiles.
import { translateRe2 } from './re2.ts';

const RE2_HINT = 'Istio uses RE2 syntax';

/** undefined if `pattern` is a valid RE2 expression (as far as this check can tell), else why not. */
export function regexProblem(pattern: string): string | undefined {
  const t = translateRe2(pattern);
  if ('problem' in t) return `${t.problem} (${RE2_HINT})`;
  try {
    new RegExp(t.source, t.unicode ? 'u' : '');
    return undefined;
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return `${detail} (${RE2_HINT})`;
  }
}
