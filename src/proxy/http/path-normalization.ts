// The connection manager's path normalization (normalize_path, merge_slashes,
// path_with_escaped_slashes_action), applied to :path before routing, so routes, RBAC and the upstream
// all see the same path. Envoy's order (ConnectionManagerUtility::maybeNormalizePath): escaped slashes
// first, then RFC 3986 normalization, then merging slashes; only the part before the query string is
// touched.
//
// normalize_path follows what Envoy gets from Chromium's URL path canonicalization: `\` is a
// separator, percent-escapes of unreserved characters (letters, digits, `-._~`) are decoded (so `%2E%2E`
// is a `..` segment), other escapes are kept as written, characters a path may not hold are escaped,
// and `.` / `..` segments are resolved (never above the root).

/** path_with_escaped_slashes_action (IMPLEMENTATION_SPECIFIC_DEFAULT is Envoy's KEEP_UNCHANGED). */
export const EscapedSlashesAction = { KeepUnchanged: 0, RejectRequest: 1, UnescapeAndRedirect: 2, UnescapeAndForward: 3 } as const;
export type EscapedSlashesAction = (typeof EscapedSlashesAction)[keyof typeof EscapedSlashesAction];

export const PathOutcome = { Continue: 0, Reject: 1, Redirect: 2 } as const;
export type PathOutcome = (typeof PathOutcome)[keyof typeof PathOutcome];

export type PathNormalization = {
  readonly normalize: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
};

/**
 * Normalizes `request.path` in place. Reject: answer 400. Redirect: answer 307 to the new path (it
 * held escaped slashes and the action is UNESCAPE_AND_REDIRECT).
 */
export function normalizeRequestPath(config: PathNormalization, request: { path: string }): PathOutcome {
  const full = request.path;
  // CONNECT's authority-form and OPTIONS' `*` have no path to normalize.
  if (full.charCodeAt(0) !== 47 /* / */) return PathOutcome.Continue;
  const q = full.indexOf('?');
  let path = q === -1 ? full : full.slice(0, q);
  const query = q === -1 ? '' : full.slice(q);
  let outcome: PathOutcome = PathOutcome.Continue;
  if (config.escapedSlashes !== EscapedSlashesAction.KeepUnchanged && path.includes('%')) {
    const unescaped = unescapeSlashes(path);
    if (unescaped !== path) {
      if (config.escapedSlashes === EscapedSlashesAction.RejectRequest) return PathOutcome.Reject;
      if (config.escapedSlashes === EscapedSlashesAction.UnescapeAndRedirect) outcome = PathOutcome.Redirect;
      path = unescaped;
    }
  }
  if (config.normalize) path = canonicalPath(path);
  if (config.mergeSlashes) path = mergeSlashes(path);
  request.path = query === '' ? path : path + query;
  return outcome;
}

const escapedSlash = /%(2f|5c)/gi;

/** %2F / %2f → `/`, %5C / %5c → `\`. */
export function unescapeSlashes(path: string): string {
  return path.replace(escapedSlash, (m) => (m[1] === '2' ? '/' : '\\'));
}

/** Runs of `/` become one. */
export function mergeSlashes(path: string): string {
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

/** Characters escaped in a canonical path: controls, space, `"`, `<`, `>`, `` ` ``, `{`, `}`, DEL. */
function mustEscape(c: number): boolean {
  return c <= 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60 || c === 0x7b || c === 0x7d || c === 0x7f;
}

const hex = '0123456789ABCDEF';

function escapeByte(b: number): string {
  return `%${hex[b >> 4]}${hex[b & 15]}`;
}

/** RFC 3986 path normalization as Envoy's normalize_path does it; `path` starts with `/`. */
export function canonicalPath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 92 /* \ */) {
      out += '/';
    } else if (c === 37 /* % */) {
      const hi = i + 2 < path.length ? hexValue(path.charCodeAt(i + 1)) : -1;
      const lo = hi === -1 ? -1 : hexValue(path.charCodeAt(i + 2));
      if (lo !== -1 && isUnreserved(hi * 16 + lo)) {
        out += String.fromCharCode(hi * 16 + lo);
        i += 2;
      } else {
        out += '%'; // kept as written (the two hex digits follow as they are), or a stray `%`
      }
    } else if (c >= 0x80 && c <= 0xff) {
      // node:http hands the request target over byte for byte (latin1): each byte is escaped.
      out += escapeByte(c);
    } else if (c > 0xff) {
      // Wider characters: escaped as UTF-8 (a surrogate pair is one code point).
      const cp = path.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += escapeByte(b);
    } else if (mustEscape(c)) {
      out += escapeByte(c);
    } else {
      out += path[i];
    }
  }
  return removeDotSegments(out);
}

/** `.` and `..` segments resolved; a trailing one leaves a trailing `/`. */
function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}
