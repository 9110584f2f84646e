// The tokens of a CEL expression (cel.ts): identifiers, integer literals (an unsigned `u` suffix is
// accepted and ignored), quoted strings with the common escapes, and the operators of the subset.
// Floating point literals are refused here, with their position.

export type Token = { kind: 'id' | 'int' | 'string' | 'op' | 'end'; text: string; value?: string | number; pos: number };

const operators = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')', '[', ']', '.', ',', '?', ':', '-'];

export function tokenize(source: string, fail: (reason: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i])) i++;
      tokens.push({ kind: 'id', text: source.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < source.length && /[0-9]/.test(source[i])) i++;
      const digits = source.slice(start, i);
      if (source[i] === 'u' || source[i] === 'U') i++;
      if (/[.eE]/.test(source[i] ?? '')) fail(`has a floating point number at ${start}, which is not supported`);
      tokens.push({ kind: 'int', text: source.slice(start, i), value: Number(digits), pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') {
          const next = source[i + 1];
          const escaped: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
          if (next === undefined || escaped[next] === undefined) fail(`has an unsupported escape at ${i}`);
          value += escaped[next];
          i += 2;
          continue;
        }
        value += source[i++];
      }
      if (i >= source.length) fail(`has an unterminated string starting at ${start}`);
      i++;
      tokens.push({ kind: 'string', text: source.slice(start, i), value, pos: start });
      continue;
    }
    const op = operators.find((o) => source.startsWith(o, i));
    if (op === undefined) fail(`has an unexpected character ${JSON.stringify(c)} at ${i}`);
    tokens.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: 'the end', pos: source.length });
  return tokens;
}
