// The stream's flat [name, value, ...] header lists (names lower-cased): reading and changing them as
// Envoy's header map operations do, without allocating. One set of helpers for every filter and
// observer that edits request or response headers.

/** The first value of a header, '' when absent (Envoy reads inline headers so). */
export function firstHeader(headers: readonly string[], name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}

/** The first value of a header; undefined when absent. */
export function headerValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

export function hasHeader(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return true;
  return false;
}

/** Sets a header's one value: the first occurrence keeps its place, later ones go (Envoy's setCopy). */
export function setHeader(headers: string[], name: string, value: string): void {
  let i = 0;
  for (; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      break;
    }
  }
  if (i >= headers.length) {
    headers.push(name, value);
    return;
  }
  // Drop any later duplicates.
  for (let j = headers.length - 2; j > i; j -= 2) if (headers[j] === name) headers.splice(j, 2);
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

/** Removes every occurrence of a header; returns the last value it had, or null. */
export function takeHeader(headers: string[], name: string): string | null {
  let value: string | null = null;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i] !== name) continue;
    if (value === null) value = headers[i + 1];
    headers.splice(i, 2);
  }
  return value;
}
