// Header values to set or add (VirtualService `headers`), as Envoy reads them: `%NAME%` and
// `%NAME(args)%` are variables (`%DOWNSTREAM_REMOTE_ADDRESS%`, `%REQ(x-user)%`), `%%` is a literal
// percent sign. A lone `%` or an unterminated variable makes Envoy reject the whole route
// configuration, so Istio rejects it at validation time, and so do we.

/** Control characters other than horizontal tab (Envoy's header value rule). */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** undefined if `value` is a valid header value; which variables exist is not checked (Istio does not either). */
export function headerValueProblem(value: string): string | undefined {
  if (hasControlCharacter(value)) return 'header value must not contain control characters';
  let i = 0;
  while (i < value.length) {
    if (value[i] !== '%') { i++; continue; }
    if (value[i + 1] === '%') { i += 2; continue; }
    if (i + 1 === value.length) return `header value "${value}" ends with a lone "%" (write "%%" for a percent sign)`;
    const end = variableEnd(value, i + 1);
    if (end < 0) return `header value "${value}" has an unterminated %VARIABLE% expression (write "%%" for a percent sign)`;
    i = end;
  }
  return undefined;
}

/** Index just after the `%` closing a variable whose name starts at `from`; -1 if it is not closed. */
function variableEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && s[i] !== '%' && s[i] !== '(') i++;
  if (i === s.length) return -1;
  if (s[i] === '%') return i + 1;
  i = skipSpaces(s, i + 1);
  if (s[i] === '[') {
    // A JSON array of strings: ["a", "b"].
    i++;
    for (;;) {
      i = skipSpaces(s, i);
      if (s[i] !== '"') return -1;
      i = stringEnd(s, i + 1);
      if (i < 0) return -1;
      i = skipSpaces(s, i);
      if (s[i] === ',') { i++; continue; }
      if (s[i] !== ']') return -1;
      i = skipSpaces(s, i + 1);
      break;
    }
  } else {
    while (i < s.length && s[i] !== ')') i += s[i] === '\\' ? 2 : 1;
  }
  if (s[i] !== ')') return -1;
  i = skipSpaces(s, i + 1);
  return s[i] === '%' ? i + 1 : -1;
}

function skipSpaces(s: string, i: number): number {
  while (s[i] === ' ') i++;
  return i;
}

/** Index just after the closing quote of a JSON string whose content starts at `i`; -1 if unclosed. */
function stringEnd(s: string, i: number): number {
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (s[i] === '"') return i + 1;
    else i++;
  }
  return -1;
}
