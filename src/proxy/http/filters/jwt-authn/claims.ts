// What a verified token leaves in the request (Envoy's AuthenticatorImpl::handleGoodJwt): the forwarded
// payload header, claim headers, the token removed from its header, and the payload / header for
// dynamic metadata.
import type { VerifyContext } from './context.ts';
import type { JwtProvider } from './provider.ts';
import type { ExtractedToken } from './token-extraction.ts';
import type { ParsedJwt } from './token.ts';

const invalidHeaderValue = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A claim as a header value, as Envoy writes it: strings as they are, numbers as integers when they
 * are non-negative whole numbers (else C's "%f"), booleans as true / false, and objects and arrays as
 * base64 of their JSON. '' when the claim is absent or of another type (no header is added).
 */
export function claimHeaderValue(payload: Record<string, unknown>, path: readonly string[]): string {
  let value: unknown = payload;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return '';
    value = (value as Record<string, unknown>)[key];
  }
  switch (typeof value) {
    case 'string': return value;
    case 'boolean': return value ? 'true' : 'false';
    case 'number':
      return value >= 0 && Number.isInteger(value) && value < 2 ** 64 ? BigInt(value).toString() : value.toFixed(6);
    case 'object':
      return value === null ? '' : Buffer.from(JSON.stringify(value)).toString('base64');
    default: return '';
  }
}

function removeHeader(headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === name) headers.splice(i, 2);
}

/** The payload for metadata, with normalize_payload_in_metadata's space-delimited claims split into lists. */
function metadataPayload(provider: JwtProvider, payload: Record<string, unknown>): Record<string, unknown> {
  const claims = provider.spaceDelimitedClaims;
  if (claims.length === 0) return payload;
  const out = { ...payload };
  for (const claim of claims) {
    const v = payload[claim];
    if (typeof v === 'string') out[claim] = v.split(' ').filter((s) => s !== '');
  }
  return out;
}

export function applyVerifiedJwt(ctx: VerifyContext, provider: JwtProvider, token: ExtractedToken, jwt: ParsedJwt): void {
  const headers = ctx.stream.requestHeaders;
  if (provider.forwardPayloadHeader !== '') {
    let payload = jwt.payloadBase64url;
    if (provider.padForwardPayloadHeader && payload.length % 4 !== 0) payload += '='.repeat(4 - (payload.length % 4));
    headers.push(provider.forwardPayloadHeader, payload);
  }
  let added = false;
  for (const c of provider.claimToHeaders) {
    const value = claimHeaderValue(jwt.payload, c.path);
    // A value node:http would refuse to send upstream is left out, like an unsupported claim type.
    if (value === '' || invalidHeaderValue.test(value)) continue;
    headers.push(c.header, value);
    added = true;
  }
  if (added && provider.clearRouteCache) ctx.clearRouteCache = true;
  // A token from a query parameter or a cookie stays where it is (as in Envoy).
  if (!provider.forward && token.header !== null) removeHeader(headers, token.header);
  if (provider.headerInMetadata !== '') ctx.addExtracted(provider.headerInMetadata, jwt.header);
  if (provider.payloadInMetadata !== '') ctx.addExtracted(provider.payloadInMetadata, metadataPayload(provider, jwt.payload));
}
