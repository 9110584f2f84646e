// Envoy's safe_regex is RE2. The proxy matches with JavaScript's RegExp, so RE2-only syntax is
// translated into its JavaScript equivalent when config arrives (never per request):
//   (?flags) for the rest of the group → (?flags:...)   (flags i, m, s; RE2's U has no equivalent)
//   (?P<name>...) → (?<name>...)       \A → start of text     \z → end of text
//   \Q...\E → the literal text          [[:alpha:]] and the other POSIX classes → their ranges
//   \pN, \p{Greek}, \PL → Unicode property escapes (with the `u` flag)
// What RE2 rejects (lookaround, backreferences) the control plane refuses before it gets here; what
// cannot be translated is reported, and the config is rejected.

const posixClasses: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

export type Translated = { source: string; unicode: boolean } | { problem: string };

/** RE2 names scripts bare (`Greek`); JavaScript wants `Script=Greek`. Categories (`L`, `Lu`, `Nd`) stay. */
function unicodeProperty(name: string): string {
  return /^[A-Z][a-z]?$/.test(name) || name === 'Any' ? name : `Script=${name}`;
}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export function re2ToJs(pattern: string): Translated {
  let out = '';
  let unicode = false;
  let inClass = false;
  // For each open group: how many extra ')' close it (one per `(?flags)` opened inside it).
  const pending: number[] = [0];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return { problem: 'ends with a lone backslash' };
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end === -1 ? undefined : end);
        out += inClass ? literal.replace(/[\\\]^-]/g, '\\$&') : escapeLiteral(literal);
        i = end === -1 ? pattern.length : end + 2;
        continue;
      }
      if (!inClass && next === 'A') { out += '(?<![\\s\\S])'; i += 2; continue; }
      if (!inClass && next === 'z') { out += '(?![\\s\\S])'; i += 2; continue; }
      if (next === 'p' || next === 'P') {
        unicode = true;
        if (pattern[i + 2] === '{') {
          const end = pattern.indexOf('}', i + 3);
          if (end === -1) return { problem: 'has an unterminated \\p{...}' };
          out += `\\${next}{${unicodeProperty(pattern.slice(i + 3, end))}}`;
          i = end + 1;
        } else {
          out += `\\${next}{${pattern[i + 2] ?? ''}}`;
          i += 3;
        }
        continue;
      }
      out += c + next;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        const name = end === -1 ? '' : pattern.slice(i + 2, end);
        const negated = name.startsWith('^');
        const range = posixClasses[negated ? name.slice(1) : name];
        if (range === undefined) return { problem: `has an unknown character class [:${name}:]` };
        if (negated) return { problem: `uses a negated POSIX class [:${name}:], which is not supported` };
        out += range;
        i = end + 2;
        continue;
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
      // RE2: a `]` first in a class is a literal.
      if (pattern[i] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?P<', i)) { out += '(?<'; i += 4; pending.push(0); continue; }
      const flagGroup = /^\(\?([imsU]*)(?:-([imsU]*))?(:|\))/.exec(pattern.slice(i));
      if (flagGroup && (flagGroup[1] !== '' || flagGroup[2] !== undefined)) {
        if ((flagGroup[1] + (flagGroup[2] ?? '')).includes('U')) return { problem: 'uses the U (ungreedy) flag, which is not supported' };
        const modifiers = `${flagGroup[1]}${flagGroup[2] ? `-${flagGroup[2]}` : ''}`;
        out += `(?${modifiers}:`;
        i += flagGroup[0].length;
        if (flagGroup[3] === ':') pending.push(0);
        else pending[pending.length - 1]++; // (?i) applies to the rest of the enclosing group
        continue;
      }
      pending.push(0);
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      const extra = pending.pop() ?? 0;
      if (pending.length === 0) return { problem: 'has an unmatched )' };
      out += ')'.repeat(extra) + ')';
      i++;
      continue;
    }
    if (c === '|' && pending[pending.length - 1] > 0) {
      // An alternative ends the scope of (?flags) groups opened in the previous alternative.
      const extra = pending[pending.length - 1];
      pending[pending.length - 1] = 0;
      out += ')'.repeat(extra) + '|';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  out += ')'.repeat(pending[0] ?? 0);
  return { source: out, unicode };
}

/** The RE2 pattern as a RegExp (full match when `anchored`), or throws with the reason. */
export function compileRe2(pattern: string, flags: string, anchored: boolean): RegExp {
  const t = re2ToJs(pattern);
  if ('problem' in t) throw new Error(t.problem);
  const source = anchored ? `^(?:${t.source})$` : t.source;
  return new RegExp(source, t.unicode && !flags.includes('u') ? `${flags}u` : flags);
}
