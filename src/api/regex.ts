// Regular expressions in Istio resources are RE2 (Envoy's safe_regex; Istio validates them with Go's
// regexp). Until Weft has an RE2 engine we check them with JavaScript's RegExp, after two steps:
//   1. reject what RE2 rejects but JavaScript accepts: lookahead, lookbehind, backreferences,
//      repeat counts above 1000, escapes RE2 does not know (`\u0041`, `\cA`, `\e`, `\C`);
//   2. rewrite RE2-only syntax that JavaScript would reject into an equivalent for the compile check:
//      flag groups `(?i)` / `(?i:...)`, `(?P<name>...)`, `\z`, `\A`, `\Q...\E`, a leading `]` in a class,
//      POSIX classes `[[:alpha:]]`.
// The rewritten pattern is used only to see whether the pattern compiles; it is never matched.

const RE2_HINT = 'Istio uses RE2 syntax';

// Letters Go's RE2 parser accepts after a backslash; JavaScript also accepts others (\u, \c, \e ...).
const RE2_ESCAPE_LETTERS = 'aftnrvxpPbBAzQEdDsSwW';

/** undefined if `pattern` is a valid RE2 expression (as far as this check can tell), else why not. */
export function regexProblem(pattern: string): string | undefined {
  const rewritten = rewriteForJs(pattern);
  if (typeof rewritten !== 'string') return `${rewritten.problem} (${RE2_HINT})`;
  try {
    new RegExp(rewritten);
    return undefined;
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return `${detail} (${RE2_HINT})`;
  }
}

type Rewrite = string | { problem: string };

function rewriteForJs(src: string): Rewrite {
  let out = '';
  let inClass = false;
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      const escaped = rewriteEscape(src, i, inClass);
      if (typeof escaped.out !== 'string') return escaped.out;
      out += escaped.out;
      i = escaped.next;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      if (c === '[' && src[i + 1] === ':') {
        // POSIX class like [:alpha:]: RE2 accepts it; replace with a harmless literal.
        const end = src.indexOf(':]', i + 2);
        if (end >= 0) { out += 'a'; i = end + 2; continue; }
      }
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (src[i] === '^') { out += '^'; i++; }
      // In RE2 a `]` right after `[` or `[^` is a literal; in JavaScript it closes an empty class.
      if (src[i] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const group = rewriteGroup(src, i);
      if (typeof group.out !== 'string') return group.out;
      out += group.out;
      i = group.next;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(src.slice(i));
      if (m !== null && (Number(m[1]) > 1000 || (m[2] !== undefined && m[2] !== '' && Number(m[2]) > 1000))) {
        return { problem: `repeat count ${m[0]} exceeds 1000` };
      }
    }
    out += c;
    i++;
  }
  return out;
}

function rewriteEscape(src: string, i: number, inClass: boolean): { out: Rewrite; next: number } {
  const e = src[i + 1];
  if (e === undefined) return { out: { problem: 'trailing backslash' }, next: i + 1 };
  if (e >= '1' && e <= '9') {
    // Go's rule: \1..\7 followed by an octal digit starts an octal escape; otherwise a backreference.
    if (e <= '7' && /[0-7]/.test(src[i + 2] ?? '')) return { out: `\\${e}`, next: i + 2 };
    return { out: { problem: `backreference \\${e} is not supported` }, next: i + 2 };
  }
  if (e === 'k' && src[i + 2] === '<') return { out: { problem: 'named backreference \\k<...> is not supported' }, next: i + 2 };
  if (e === 'Q') {
    const end = src.indexOf('\\E', i + 2);
    const literal = src.slice(i + 2, end < 0 ? src.length : end);
    return { out: literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), next: end < 0 ? src.length : end + 2 };
  }
  if (/[A-Za-z]/.test(e) && !RE2_ESCAPE_LETTERS.includes(e)) {
    return { out: { problem: `invalid escape sequence \\${e}` }, next: i + 2 };
  }
  if (!inClass && (e === 'z' || e === 'A')) return { out: e === 'z' ? '$' : '^', next: i + 2 };
  return { out: `\\${e}`, next: i + 2 };
}

function rewriteGroup(src: string, i: number): { out: Rewrite; next: number } {
  const rest = src.slice(i + 2);
  if (rest.startsWith('=') || rest.startsWith('!')) {
    return { out: { problem: 'lookahead (?= or (?! is not supported' }, next: i };
  }
  if (rest.startsWith('<=') || rest.startsWith('<!')) {
    return { out: { problem: 'lookbehind (?<= or (?<! is not supported' }, next: i };
  }
  if (rest.startsWith('P<')) return { out: '(?<', next: i + 4 };
  if (rest.startsWith('<') || rest.startsWith(':')) return { out: `(?${rest[0]}`, next: i + 3 };
  const flags = /^([imsU]*)(?:-([imsU]*))?([):])/.exec(rest);
  if (flags !== null && (flags[1] !== '' || (flags[2] ?? '') !== '')) {
    if (flags[2] === '') return { out: { problem: 'missing flags after - in (?flags)' }, next: i };
    // `(?i)` sets flags for the rest of the group: drop it; `(?i:...)` becomes a plain group.
    return { out: flags[3] === ')' ? '' : '(?:', next: i + 2 + flags[0].length };
  }
  return { out: { problem: `unsupported group syntax (?${rest.slice(0, 1)}` }, next: i };
}
