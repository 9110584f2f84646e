// A JWT taken apart (RFC 7519), without verifying it: the checks and error texts of Envoy's
// jwt_verify Jwt::parseFromString. Claims with the wrong type fail here, before any key is used.
import { JwtStatus } from './status.ts';

/** The algorithms Envoy verifies; anything else (`none` first of all) is "not supported". */
export const supportedAlgorithms: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA',
]);

const base64url = /^[A-Za-z0-9_-]*$/;

export class ParsedJwt {
  readonly token: string;
  readonly alg: string;
  /** '' when the header has none. */
  readonly kid: string;
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The payload segment as it came (base64url, no padding): what forward_payload_header sends. */
  readonly payloadBase64url: string;
  /** '' when absent. */
  readonly iss: string;
  readonly sub: string;
  /** 0 when absent (Envoy's convention: the claim is then not checked). */
  readonly exp: number;
  readonly nbf: number;
  readonly audiences: readonly string[];

  constructor(token: string, header: Record<string, unknown>, payload: Record<string, unknown>, payloadBase64url: string,
    claims: { alg: string; kid: string; iss: string; sub: string; exp: number; nbf: number; audiences: string[] }) {
    this.token = token;
    this.header = header;
    this.payload = payload;
    this.payloadBase64url = payloadBase64url;
    this.alg = claims.alg;
    this.kid = claims.kid;
    this.iss = claims.iss;
    this.sub = claims.sub;
    this.exp = claims.exp;
    this.nbf = claims.nbf;
    this.audiences = claims.audiences;
  }
}

function decodeObject(segment: string): Record<string, unknown> | 'base64' | 'json' {
  if (!base64url.test(segment)) return 'base64';
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return 'json';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : 'json';
}

/** A NumericDate claim: 0 when absent, a status when it is not a non-negative integer. */
function numericDate(value: unknown, notInteger: JwtStatus, outOfRange: JwtStatus): number | JwtStatus {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) return notInteger;
  if (value < 0) return outOfRange;
  return value;
}

export function parseJwt(token: string): ParsedJwt | JwtStatus {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return JwtStatus.BadFormat;
  const header = decodeObject(token.slice(0, first));
  if (header === 'base64') return JwtStatus.HeaderBadBase64;
  if (header === 'json') return JwtStatus.HeaderBadJson;
  const alg = header.alg;
  if (typeof alg !== 'string') return JwtStatus.HeaderBadAlg;
  if (!supportedAlgorithms.has(alg)) return JwtStatus.HeaderNotImplementedAlg;
  const kid = header.kid ?? '';
  if (typeof kid !== 'string') return JwtStatus.HeaderBadKid;

  const payloadBase64url = token.slice(first + 1, second);
  const payload = decodeObject(payloadBase64url);
  if (payload === 'base64') return JwtStatus.PayloadBadBase64;
  if (payload === 'json') return JwtStatus.PayloadBadJson;
  const iss = payload.iss ?? '';
  if (typeof iss !== 'string') return JwtStatus.IssNotString;
  const sub = payload.sub ?? '';
  if (typeof sub !== 'string') return JwtStatus.SubNotString;
  const iat = numericDate(payload.iat, JwtStatus.IatNotInteger, JwtStatus.IatOutOfRange);
  if (typeof iat === 'string') return iat;
  const nbf = numericDate(payload.nbf, JwtStatus.NbfNotInteger, JwtStatus.NbfOutOfRange);
  if (typeof nbf === 'string') return nbf;
  const exp = numericDate(payload.exp, JwtStatus.ExpNotInteger, JwtStatus.ExpOutOfRange);
  if (typeof exp === 'string') return exp;
  if (payload.jti !== undefined && typeof payload.jti !== 'string') return JwtStatus.JtiNotString;
  let audiences: string[];
  const aud = payload.aud;
  if (aud === undefined) audiences = [];
  else if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) audiences = aud as string[];
  else return JwtStatus.AudNotString;

  if (!base64url.test(token.slice(second + 1))) return JwtStatus.SignatureBadBase64;
  return new ParsedJwt(token, header, payload, payloadBase64url, { alg, kid, iss, sub, exp, nbf, audiences });
}
