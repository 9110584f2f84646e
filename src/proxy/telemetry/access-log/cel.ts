// The subset of CEL (Common Expression Language) that access log filters are written in
// (envoy.access_loggers.extension_filters.cel, Istio's Telemetry accessLogging filter.expression):
// Envoy's attributes (request.*, response.*, source.*, destination.*, upstream.*, connection.*, xds.*),
// string, int, bool and list literals, == != < <= > >=, in, && || !, parentheses, `?:`, map indexing
// (`request.headers['x-debug']`) and the string functions contains, startsWith, endsWith and size.
//
// An expression is parsed and type-checked when the config arrives: an unknown attribute, a function
// outside the subset or a comparison of different types rejects the config with a message that says
// so. At run time, as in Envoy, an evaluation error (a missing header, say) makes the filter false;
// `&&` and `||` absorb an error when the other side decides the result, as CEL specifies.
import type { FieldPath } from '../../upstream/envoy-config.ts';
import type { LogRecord } from './record.ts';
import { celAttribute, type CelType } from './cel-attributes.ts';
import { celError, type CelValue } from './cel-value.ts';
import { tokenize, type Token } from './cel-lexer.ts';


type Compiled = { type: CelType; eval: (r: LogRecord) => CelValue };

/** A recursive-descent parser that type-checks and compiles as it goes. */
class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private readonly fail: (reason: string) => never;

  constructor(tokens: Token[], fail: (reason: string) => never) {
    this.tokens = tokens;
    this.fail = fail;
  }

  parse(): Compiled {
    const expr = this.conditional();
    const rest = this.peek();
    if (rest.kind !== 'end') this.fail(`has unexpected ${JSON.stringify(rest.text)} at ${rest.pos}`);
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  private accept(op: string): boolean {
    const t = this.peek();
    if (t.kind === 'op' && t.text === op) {
      this.index++;
      return true;
    }
    return false;
  }

  private expect(op: string): void {
    const t = this.peek();
    if (!this.accept(op)) this.fail(`expects ${JSON.stringify(op)} at ${t.pos}, found ${JSON.stringify(t.text)}`);
  }

  private conditional(): Compiled {
    const cond = this.or();
    if (!this.accept('?')) return cond;
    this.want(cond, 'bool', 'the condition of ?:');
    const yes = this.conditional();
    this.expect(':');
    const no = this.conditional();
    if (yes.type !== no.type && yes.type !== 'dyn' && no.type !== 'dyn') this.fail(`has ?: branches of different types (${yes.type} and ${no.type})`);
    return {
      type: yes.type === 'dyn' ? no.type : yes.type,
      eval: (r) => {
        const c = cond.eval(r);
        if (c === celError) return celError;
        return c === true ? yes.eval(r) : no.eval(r);
      },
    };
  }

  private or(): Compiled {
    let left = this.and();
    while (this.accept('||')) {
      const right = this.and();
      this.want(left, 'bool', 'the left side of ||');
      this.want(right, 'bool', 'the right side of ||');
      const a = left;
      left = {
        type: 'bool',
        eval: (r) => {
          const x = a.eval(r);
          if (x === true) return true;
          const y = right.eval(r);
          if (y === true) return true;
          return x === celError || y === celError ? celError : false;
        },
      };
    }
    return left;
  }

  private and(): Compiled {
    let left = this.relation();
    while (this.accept('&&')) {
      const right = this.relation();
      this.want(left, 'bool', 'the left side of &&');
      this.want(right, 'bool', 'the right side of &&');
      const a = left;
      left = {
        type: 'bool',
        eval: (r) => {
          const x = a.eval(r);
          if (x === false) return false;
          const y = right.eval(r);
          if (y === false) return false;
          return x === celError || y === celError ? celError : true;
        },
      };
    }
    return left;
  }

  private relation(): Compiled {
    const left = this.unary();
    const t = this.peek();
    const op = t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text) ? t.text : t.kind === 'id' && t.text === 'in' ? 'in' : null;
    if (op === null) return left;
    this.index++;
    const right = this.unary();
    if (op === 'in') return this.membership(left, right);
    if (left.type !== right.type && left.type !== 'dyn' && right.type !== 'dyn') {
      this.fail(`compares ${left.type} with ${right.type} (${op}); both sides must have the same type`);
    }
    if (op !== '==' && op !== '!=' && !['int', 'string', 'dyn'].includes(left.type)) this.fail(`orders values of type ${left.type} (${op})`);
    const compare = comparisons[op];
    return {
      type: 'bool',
      eval: (r) => {
        const x = left.eval(r);
        if (x === celError) return celError;
        const y = right.eval(r);
        if (y === celError) return celError;
        return compare(x, y);
      },
    };
  }

  private membership(item: Compiled, container: Compiled): Compiled {
    if (container.type !== 'list' && container.type !== 'map' && container.type !== 'dyn') this.fail(`uses in with a ${container.type}; it needs a list or a map`);
    return {
      type: 'bool',
      eval: (r) => {
        const x = item.eval(r);
        const c = container.eval(r);
        if (x === celError || c === celError) return celError;
        if (Array.isArray(c)) return c.some((v) => v === x);
        if (c instanceof Map) return typeof x === 'string' && c.has(x);
        return celError;
      },
    };
  }

  private unary(): Compiled {
    if (this.accept('!')) {
      const operand = this.unary();
      this.want(operand, 'bool', 'the operand of !');
      return { type: 'bool', eval: (r) => { const v = operand.eval(r); return v === celError ? celError : v !== true; } };
    }
    if (this.accept('-')) {
      const t = this.next();
      if (t.kind !== 'int') this.fail(`supports - only before an integer literal (at ${t.pos})`);
      const value = -(t.value as number);
      return { type: 'int', eval: () => value };
    }
    return this.member();
  }

  private member(): Compiled {
    const t = this.peek();
    if (t.kind === 'id' && !isKeyword(t.text)) {
      // An attribute path: `request.headers`, `response.code`; then indexing or a function call.
      this.index++;
      let path = t.text;
      while (this.peek().kind === 'op' && this.peek().text === '.' && this.tokens[this.index + 1]?.kind === 'id' &&
        !(this.tokens[this.index + 2]?.kind === 'op' && this.tokens[this.index + 2]?.text === '(')) {
        const attribute = celAttribute(path);
        if (attribute !== undefined && attribute.type === 'map') break;
        this.index++;
        path += `.${this.next().text}`;
      }
      if (this.peek().kind === 'op' && this.peek().text === '(') this.fail(`calls the function ${path}(), which is not supported`);
      const attribute = celAttribute(path);
      if (attribute === undefined) this.fail(`uses the unknown or unsupported attribute ${path}`);
      return this.postfix({ type: attribute.type, eval: attribute.read });
    }
    return this.postfix(this.primary());
  }

  private postfix(operand: Compiled): Compiled {
    let expr = operand;
    for (;;) {
      if (this.accept('[')) {
        const key = this.conditional();
        this.expect(']');
        expr = this.index_(expr, key);
      } else if (this.peek().kind === 'op' && this.peek().text === '.') {
        this.index++;
        const name = this.next();
        if (name.kind !== 'id') this.fail(`expects a name after . at ${name.pos}`);
        if (this.accept('(')) {
          expr = this.method(expr, name.text);
        } else {
          const key = name.text;
          expr = this.index_(expr, { type: 'string', eval: () => key });
        }
      } else {
        return expr;
      }
    }
  }

  private index_(container: Compiled, key: Compiled): Compiled {
    if (container.type === 'map') {
      this.want(key, 'string', 'a map key');
      return {
        type: 'string',
        eval: (r) => {
          const m = container.eval(r);
          const k = key.eval(r);
          if (!(m instanceof Map) || typeof k !== 'string') return celError;
          const v = m.get(k);
          return v === undefined ? celError : v;
        },
      };
    }
    if (container.type === 'list') {
      this.want(key, 'int', 'a list index');
      return {
        type: 'dyn',
        eval: (r) => {
          const l = container.eval(r);
          const k = key.eval(r);
          if (!Array.isArray(l) || typeof k !== 'number' || k < 0 || k >= l.length) return celError;
          return l[k] as CelValue;
        },
      };
    }
    this.fail(`indexes a value of type ${container.type}`);
  }

  private method(target: Compiled, name: string): Compiled {
    const args: Compiled[] = [];
    if (!this.accept(')')) {
      do args.push(this.conditional()); while (this.accept(','));
      this.expect(')');
    }
    const stringTest = stringTests[name];
    if (stringTest !== undefined) {
      this.want(target, 'string', `the target of ${name}()`);
      if (args.length !== 1) this.fail(`calls ${name}() with ${args.length} arguments; it takes one`);
      this.want(args[0], 'string', `the argument of ${name}()`);
      const arg = args[0];
      return {
        type: 'bool',
        eval: (r) => {
          const s = target.eval(r);
          const a = arg.eval(r);
          return typeof s === 'string' && typeof a === 'string' ? stringTest(s, a) : celError;
        },
      };
    }
    if (name === 'size' && args.length === 0) return this.size(target);
    this.fail(`calls the function ${name}(), which is not supported (supported: contains, startsWith, endsWith, size)`);
  }

  private size(target: Compiled): Compiled {
    if (!['string', 'list', 'map', 'dyn'].includes(target.type)) this.fail(`takes size() of a ${target.type}`);
    return {
      type: 'int',
      eval: (r) => {
        const v = target.eval(r);
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (v instanceof Map) return v.size;
        return celError;
      },
    };
  }

  private primary(): Compiled {
    const t = this.next();
    if (t.kind === 'int') {
      const value = t.value as number;
      return { type: 'int', eval: () => value };
    }
    if (t.kind === 'string') {
      const value = t.value as string;
      return { type: 'string', eval: () => value };
    }
    if (t.kind === 'id' && (t.text === 'true' || t.text === 'false')) {
      const value = t.text === 'true';
      return { type: 'bool', eval: () => value };
    }
    if (t.kind === 'id' && t.text === 'null') return { type: 'dyn', eval: () => null };
    if (t.kind === 'id' && t.text === 'size' && this.accept('(')) {
      const arg = this.conditional();
      this.expect(')');
      return this.size(arg);
    }
    if (t.kind === 'op' && t.text === '(') {
      const inner = this.conditional();
      this.expect(')');
      return inner;
    }
    if (t.kind === 'op' && t.text === '[') {
      const items: Compiled[] = [];
      if (!this.accept(']')) {
        do items.push(this.conditional()); while (this.accept(','));
        this.expect(']');
      }
      return {
        type: 'list',
        eval: (r) => {
          const values: CelValue[] = [];
          for (const item of items) {
            const v = item.eval(r);
            if (v === celError) return celError;
            values.push(v);
          }
          return values;
        },
      };
    }
    if (t.kind === 'end') this.fail('ends too early');
    return this.fail(`has unexpected ${JSON.stringify(t.text)} at ${t.pos}`);
  }

  private want(expr: Compiled, type: CelType, what: string): void {
    if (expr.type !== type && expr.type !== 'dyn') this.fail(`needs ${type} for ${what}, found ${expr.type}`);
  }
}

function isKeyword(name: string): boolean {
  return name === 'true' || name === 'false' || name === 'null' || name === 'in' || name === 'size';
}

const stringTests: Record<string, (s: string, a: string) => boolean> = {
  contains: (s, a) => s.includes(a),
  startsWith: (s, a) => s.startsWith(a),
  endsWith: (s, a) => s.endsWith(a),
};

type Plain = Exclude<CelValue, typeof celError>;

const comparisons: Record<string, (x: Plain, y: Plain) => CelValue> = {
  '==': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  '<': (x, y) => (sameOrdered(x, y) ? (x as number) < (y as number) : celError),
  '<=': (x, y) => (sameOrdered(x, y) ? (x as number) <= (y as number) : celError),
  '>': (x, y) => (sameOrdered(x, y) ? (x as number) > (y as number) : celError),
  '>=': (x, y) => (sameOrdered(x, y) ? (x as number) >= (y as number) : celError),
};

function sameOrdered(x: Plain, y: Plain): boolean {
  return (typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string');
}

/** A compiled boolean expression: true logs the entry; an evaluation error counts as false. */
export type CelPredicate = (record: LogRecord) => boolean;

/** Parses and checks `source`; anything outside the subset rejects the config at `at`. */
export function compileCel(at: FieldPath, source: string): CelPredicate {
  const fail = (reason: string): never => at.reject(`CEL expression ${JSON.stringify(source)} ${reason}`);
  if (source.trim() === '') fail('is empty');
  const expr = new Parser(tokenize(source, fail), fail).parse();
  if (expr.type !== 'bool' && expr.type !== 'dyn') fail(`has type ${expr.type}; a filter needs a bool`);
  const evaluate = expr.eval;
  return (record) => evaluate(record) === true;
}
