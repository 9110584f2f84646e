// RE2, the regular expression syntax of Istio (validated with Go's regexp) and of Envoy's safe_regex,
// read once into its JavaScript equivalent. The control plane uses it to tell valid RE2 from invalid,
// and the proxy to match. One walk over the pattern:
//   - what RE2 rejects but JavaScript would accept is a `problem`: lookahead and lookbehind,
//     backreferences, repeat counts above 1000, escapes RE2 does not know (`\u0041`, `\cA`, `\e`, `\C`);
//   - RE2-only syntax is translated: `(?flags)` for the rest of its group → `(?flags:...)`,
//     `(?P<name>...)` → `(?<name>...)`, `\A` / `\z` → start / end of text, `\Q...\E` → the literal,
//     a leading `]` in a class → `\]`, POSIX classes `[[:alpha:]]` → their ranges, `\pN` / `\p{Greek}`
//     → Unicode property escapes (with the `u` flag);
//   - valid RE2 without a JavaScript equivalent is `unsupported` (the `U` ungreedy flag, negated POSIX
//     classes): valid Istio, refused by the proxy.

export type Re2Translation =
  | { source: string; unicode: boolean; unsupported: string | null }
  | { problem: string };

// Letters Go's RE2 parser accepts after a backslash; JavaScript also accepts others (\u, \c, \e ...).
const re2EscapeLetters = 'aftnrvxpPbBAzQEdDsSwW';

const posixClasses: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/** RE2 names scripts bare (`Greek`); JavaScript wants `Script=Greek`. Categories (`L`, `Lu`, `Nd`) stay. */
function unicodeProperty(name: string): string {
  return /^[A-Z][a-z]?$/.test(name) || name === 'Any' ? name : `Script=${name}`;
}

function escapeLiteral(text: string, inClass: boolean): string {
  return inClass ? text.replace(/[\\\]^-]/g, '\\$&') : text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export function translateRe2(pattern: string): Re2Translation {
  let out = '';
  let unicode = false;
  let unsupported: string | null = null;
  let inClass = false;
  // For each open group: how many extra ')' close it (one per `(?flags)` opened inside it).
  const pending: number[] = [0];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return { problem: 'trailing backslash' };
      if (e >= '1' && e <= '9') {
        // Go's rule: \1..\7 followed by an octal digit starts an octal escape; otherwise a backreference.
        if (e <= '7' && /[0-7]/.test(pattern[i + 2] ?? '')) { out += `\\${e}`; i += 2; continue; }
        return { problem: `backreference \\${e} is not supported` };
      }
      if (e === 'k' && pattern[i + 2] === '<') return { problem: 'named backreference \\k<...> is not supported' };
      if (e === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        out += escapeLiteral(pattern.slice(i + 2, end === -1 ? undefined : end), inClass);
        i = end === -1 ? pattern.length : end + 2;
        continue;
      }
      if (/[A-Za-z]/.test(e) && !re2EscapeLetters.includes(e)) return { problem: `invalid escape sequence \\${e}` };
      if (!inClass && e === 'A') { out += '(?<![\\s\\S])'; i += 2; continue; }
      if (!inClass && e === 'z') { out += '(?![\\s\\S])'; i += 2; continue; }
      if (e === 'p' || e === 'P') {
        unicode = true;
        if (pattern[i + 2] === '{') {
          const end = pattern.indexOf('}', i + 3);
          if (end === -1) return { problem: 'unterminated \\p{...}' };
          out += `\\${e}{${unicodeProperty(pattern.slice(i + 3, end))}}`;
          i = end + 1;
        } else {
          out += `\\${e}{${unicodeProperty(pattern[i + 2] ?? '')}}`;
          i += 3;
        }
        continue;
      }
      out += c + e;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end !== -1) {
          const name = pattern.slice(i + 2, end);
          const negated = name.startsWith('^');
          const range = posixClasses[negated ? name.slice(1) : name];
          if (range === undefined) return { problem: `invalid character class range [:${name}:]` };
          if (negated) unsupported ??= `a negated POSIX class [:${name}:] has no JavaScript equivalent`;
          out += range;
          i = end + 2;
          continue;
        }
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (pattern[i] === '^') { out += '^'; i++; }
      // In RE2 a `]` right after `[` or `[^` is a literal; in JavaScript it closes an empty class.
      if (pattern[i] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] !== '?') { pending.push(0); out += c; i++; continue; }
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('=') || rest.startsWith('!')) return { problem: 'lookahead (?= or (?! is not supported' };
      if (rest.startsWith('<=') || rest.startsWith('<!')) return { problem: 'lookbehind (?<= or (?<! is not supported' };
      if (rest.startsWith('P<')) { out += '(?<'; i += 4; pending.push(0); continue; }
      if (rest.startsWith('<') || rest.startsWith(':')) { out += `(?${rest[0]}`; i += 3; pending.push(0); continue; }
      const flags = /^([imsU]*)(?:-([imsU]*))?([):])/.exec(rest);
      if (flags === null || (flags[1] === '' && (flags[2] ?? '') === '')) return { problem: `unsupported group syntax (?${rest.slice(0, 1)}` };
      if (flags[2] === '') return { problem: 'missing flags after - in (?flags)' };
      if ((flags[1] + (flags[2] ?? '')).includes('U')) unsupported ??= 'the U (ungreedy) flag has no JavaScript equivalent';
      const on = flags[1].replace('U', '');
      const off = (flags[2] ?? '').replace('U', '');
      out += on === '' && off === '' ? '(?:' : `(?${on}${off !== '' ? `-${off}` : ''}:`;
      i += 2 + flags[0].length;
      if (flags[3] === ':') pending.push(0);
      else pending[pending.length - 1]++; // (?i) applies to the rest of the enclosing group
      continue;
    }
    if (c === ')') {
      const extra = pending.pop() ?? 0;
      if (pending.length === 0) return { problem: 'unmatched )' };
      out += ')'.repeat(extra) + ')';
      i++;
      continue;
    }
    if (c === '|' && pending[pending.length - 1] > 0) {
      // An alternative ends the scope of (?flags) opened in the previous alternative.
      out += ')'.repeat(pending[pending.length - 1]) + '|';
      pending[pending.length - 1] = 0;
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (m !== null && (Number(m[1]) > 1000 || (m[2] !== undefined && m[2] !== '' && Number(m[2]) > 1000))) {
        return { problem: `repeat count ${m[0]} exceeds 1000` };
      }
    }
    out += c;
    i++;
  }
  out += ')'.repeat(pending[0] ?? 0);
  return { source: out, unicode, unsupported };
}
