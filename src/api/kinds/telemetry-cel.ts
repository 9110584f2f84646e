// A syntax check of Common Expression Language (CEL) text, as Istio parses a Telemetry access log
// filter before accepting it. Only the grammar is checked (what the expression means is the proxy's
// business): literals, identifiers, member access, calls, indexing, lists, maps, unary and binary
// operators, `in` and the conditional `a ? b : c`.

import type { Problem } from '../schema.ts';

type Token = { kind: 'ident' | 'number' | 'string' | 'op' | 'end'; text: string; at: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    const quoted = /^([rRbB]{0,2})('''|"""|'|")/.exec(text.slice(i));
    if (quoted) {
      const raw = /r/i.test(quoted[1]);
      const quote = quoted[2];
      i += quoted[0].length;
      for (;;) {
        if (i >= text.length) throw new SyntaxError(`unterminated string starting at offset ${start}`);
        if (!raw && text[i] === '\\') { i += 2; continue; }
        if (text.startsWith(quote, i)) { i += quote.length; break; }
        if (quote.length === 1 && text[i] === '\n') throw new SyntaxError(`unterminated string starting at offset ${start}`);
        i++;
      }
      tokens.push({ kind: 'string', text: text.slice(start, i), at: start });
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+u?|\d+(\.\d+)?([eE][+-]?\d+)?u?|\.\d+([eE][+-]?\d+)?)/.exec(text.slice(i));
    if (num && /[\d.]/.test(c) && !(c === '.' && !/\d/.test(text[i + 1] ?? ''))) {
      i += num[0].length;
      tokens.push({ kind: 'number', text: num[0], at: start });
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      i += ident[0].length;
      tokens.push({ kind: 'ident', text: ident[0], at: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw new SyntaxError(`unexpected character "${c}" at offset ${i}`);
    i += op.length;
    tokens.push({ kind: 'op', text: op, at: start });
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) { this.tokens = tokens; }

  private peek(): Token { return this.tokens[this.pos]; }
  private isOp(text: string): boolean { const t = this.peek(); return t.kind === 'op' && t.text === text; }
  private take(text: string): boolean { if (!this.isOp(text)) return false; this.pos++; return true; }
  private expect(text: string): void {
    if (!this.take(text)) throw new SyntaxError(`expected "${text}" ${this.where()}`);
  }
  private where(): string {
    const t = this.peek();
    return t.kind === 'end' ? 'at the end of the expression' : `at offset ${t.at} (found "${t.text}")`;
  }

  parse(): void {
    this.expr();
    if (this.peek().kind !== 'end') throw new SyntaxError(`unexpected "${this.peek().text}" at offset ${this.peek().at}`);
  }

  private expr(): void {
    this.binary(0);
    if (this.take('?')) {
      this.binary(0);
      this.expect(':');
      this.expr();
    }
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>=', 'in'], ['+', '-'], ['*', '/', '%'],
  ];

  private binary(level: number): void {
    if (level === Parser.LEVELS.length) return this.unary();
    this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const isIn = t.kind === 'ident' && t.text === 'in';
      if (!(isIn || (t.kind === 'op' && Parser.LEVELS[level].includes(t.text))) || (isIn && level !== 2)) return;
      this.pos++;
      this.binary(level + 1);
    }
  }

  private unary(): void {
    while (this.take('!') || this.take('-')) { /* prefix operators */ }
    this.member();
  }

  private member(): void {
    this.primary();
    for (;;) {
      if (this.take('.')) {
        this.ident();
        if (this.take('(')) this.list(')');
      } else if (this.take('[')) {
        this.expr();
        this.expect(']');
      } else {
        return;
      }
    }
  }

  private ident(): void {
    if (this.peek().kind !== 'ident') throw new SyntaxError(`expected a name ${this.where()}`);
    this.pos++;
  }

  private primary(): void {
    const t = this.peek();
    if (t.kind === 'number' || t.kind === 'string') { this.pos++; return; }
    if (t.kind === 'ident') {
      this.pos++;
      if (this.take('(')) this.list(')');
      else if (this.isOp('{')) { this.pos++; this.entries(); }
      return;
    }
    if (this.take('.')) { this.ident(); return; }
    if (this.take('(')) { this.expr(); this.expect(')'); return; }
    if (this.take('[')) { this.list(']'); return; }
    if (this.take('{')) { this.entries(); return; }
    throw new SyntaxError(`expected a value ${this.where()}`);
  }

  /** Comma-separated expressions up to `close` (a trailing comma allowed). */
  private list(close: string): void {
    while (!this.take(close)) {
      this.expr();
      if (!this.take(',')) { this.expect(close); return; }
    }
  }

  /** `key: value` pairs up to `}` (map literals and message construction). */
  private entries(): void {
    while (!this.take('}')) {
      this.expr();
      this.expect(':');
      this.expr();
      if (!this.take(',')) { this.expect('}'); return; }
    }
  }
}

/** Nothing when `text` is a syntactically valid CEL expression; else why not. */
export function celSyntaxProblem(text: string): Problem {
  if (text.trim() === '') return 'must be a CEL expression (it is empty)';
  try {
    new Parser(tokenize(text)).parse();
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxError) return `must be a valid CEL expression: ${e.message}`;
    throw e;
  }
}
