// What a PromQL expression reads: its series selectors (metric name and label matchers) and the
// labels it groups or matches by, per alternative of a top-level `or` (Istio's dashboards write
// `new_metric ... or old_metric ...` so one panel works on several Istio versions). A small tokenizer,
// enough for the PromQL that Grafana dashboards hold; not a full parser.

export interface Matcher { label: string; op: string; value: string }
export interface Selector { metric: string; matchers: Matcher[] }
export interface Alternative {
  /** The text of this alternative. */
  text: string;
  selectors: Selector[];
  /** Labels named in by (...), on (...) and ignoring (...) clauses. */
  groupings: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

type Token = { kind: 'ident' | 'string' | 'number' | 'punct' | 'range'; text: string; at: number; end: number };

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === '\\' && c !== '`') { text += expr[j + 1]; j += 2; continue; }
        text += expr[j++];
      }
      out.push({ kind: 'string', text, at: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (c === '[') {
      const j = expr.indexOf(']', i);
      out.push({ kind: 'range', text: expr.slice(i, j + 1), at: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i));
    if (ident) { out.push({ kind: 'ident', text: ident[0], at: i, end: i + ident[0].length }); i += ident[0].length; continue; }
    const num = /^(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)/.exec(expr.slice(i));
    if (num && num[0] !== '') { out.push({ kind: 'number', text: num[0], at: i, end: i + num[0].length }); i += num[0].length; continue; }
    const op = /^(?:=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>])/.exec(expr.slice(i));
    if (!op) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i} in ${expr}`);
    out.push({ kind: 'punct', text: op[0], at: i, end: i + op[0].length });
    i += op[0].length;
  }
  return out;
}

/** Splits at `or` outside any parentheses. */
function alternatives(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && (t.text === '(' || t.text === '{')) depth++;
    if (t.kind === 'punct' && (t.text === ')' || t.text === '}')) depth--;
    if (depth === 0 && t.kind === 'ident' && t.text === 'or') { out.push([]); continue; }
    out[out.length - 1].push(t);
  }
  return out;
}

function read(tokens: Token[], expr: string): Alternative {
  const selectors: Selector[] = [];
  const groupings = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (t.kind === 'ident' && LABEL_LIST_KEYWORDS.has(t.text)) {
      if (next?.text !== '(') continue;
      let j = i + 2;
      for (; j < tokens.length && tokens[j].text !== ')'; j++) if (tokens[j].kind === 'ident') groupings.add(tokens[j].text);
      i = j;
      continue;
    }
    // A function or aggregation: `rate(`, `sum(`, `sum by (...) (`.
    if (t.kind === 'ident' && !KEYWORDS.has(t.text) && (next?.text === '(' || (next?.kind === 'ident' && (next.text === 'by' || next.text === 'without')))) continue;
    if (t.kind === 'ident' && KEYWORDS.has(t.text)) continue;
    if (t.kind === 'ident' || (t.kind === 'punct' && t.text === '{')) {
      const metric = t.kind === 'ident' ? t.text : '';
      const matchers: Matcher[] = [];
      let j = t.kind === 'ident' ? i + 1 : i;
      if (tokens[j]?.text === '{') {
        j++;
        while (j < tokens.length && tokens[j].text !== '}') {
          if (tokens[j].kind === 'ident' && tokens[j + 1]?.kind === 'punct' && tokens[j + 2]?.kind === 'string') {
            matchers.push({ label: tokens[j].text, op: tokens[j + 1].text, value: tokens[j + 2].text });
            j += 3;
          } else j++;
        }
        i = j;
      }
      const name = metric !== '' ? metric : matchers.find((m) => m.label === '__name__' && m.op === '=')?.value ?? '';
      selectors.push({ metric: name, matchers: matchers.filter((m) => m.label !== '__name__') });
    }
  }
  const from = tokens[0]?.at ?? 0;
  const last = tokens[tokens.length - 1];
  return { text: last ? expr.slice(from, last.end).trim() : '', selectors, groupings: [...groupings] };
}

/** The alternatives of an expression (one unless it has a top-level `or`). */
export function readExpression(expr: string): Alternative[] {
  return alternatives(tokenize(expr)).map((tokens) => read(tokens, expr));
}
