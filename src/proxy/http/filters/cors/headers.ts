// Reading request headers and setting response headers on the stream's flat [name, value, ...] lists
// (names lower-cased), without allocating.

/** The first value of a header, '' when absent (Envoy reads these CORS headers as inline headers). */
export function firstHeader(headers: readonly string[], name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}

/** Sets a header, replacing every value it had (Envoy's setInline). */
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
