// Changing the stream's flat [name, value, ...] header lists (names lower-cased) as Envoy's header map
// operations do.

/** Sets a header, replacing every value it had (Envoy's setCopy). */
export function setHeader(headers: string[], name: string, value: string): void {
  removeHeader(headers, name);
  headers.push(name, value);
}

/** Appends to a header's first value with a comma, or adds it (Envoy's appendCopy). */
export function appendHeader(headers: string[], name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = headers[i + 1] === '' ? value : `${headers[i + 1]},${value}`;
      return;
    }
  }
  headers.push(name, value);
}

export function removeHeader(headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === name) headers.splice(i, 2);
}

/** The first value of a header; undefined when absent. */
export function headerValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}
