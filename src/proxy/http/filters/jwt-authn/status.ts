// The outcome of verifying a request's JWTs, as Envoy's jwt_verify Status: each value is the text
// Envoy sends as the body of its 401 (or 403), so a failure needs no lookup to be answered.
export const JwtStatus = {
  Ok: 'OK',
  Missing: 'Jwt is missing',
  NotYetValid: 'Jwt not yet valid',
  Expired: 'Jwt is expired',
  BadFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  HeaderBadBase64: 'Jwt header is an invalid Base64url encoded',
  HeaderBadJson: 'Jwt header is an invalid JSON',
  HeaderBadAlg: 'Jwt header [alg] field is required and must be a string',
  HeaderNotImplementedAlg: 'Jwt header [alg] is not supported',
  HeaderBadKid: 'Jwt header [kid] field is not a string',
  PayloadBadBase64: 'Jwt payload is an invalid Base64url encoded',
  PayloadBadJson: 'Jwt payload is an invalid JSON',
  IssNotString: 'Jwt payload [iss] field is not a string',
  SubNotString: 'Jwt payload [sub] field is not a string',
  IatNotInteger: 'Jwt payload [iat] field is not an integer',
  IatOutOfRange: 'Jwt payload [iat] field is not a positive 64 bit integer',
  NbfNotInteger: 'Jwt payload [nbf] field is not an integer',
  NbfOutOfRange: 'Jwt payload [nbf] field is not a positive 64 bit integer',
  ExpNotInteger: 'Jwt payload [exp] field is not an integer',
  ExpOutOfRange: 'Jwt payload [exp] field is not a positive 64 bit integer',
  JtiNotString: 'Jwt payload [jti] field is not a string',
  AudNotString: 'Jwt payload [aud] field is not a string or string list',
  SignatureBadBase64: 'Jwt signature is an invalid Base64url encoded',
  UnknownIssuer: 'Jwt issuer is not configured',
  AudienceNotAllowed: 'Audiences in Jwt are not allowed',
  VerificationFail: 'Jwt verification fails',
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
} as const;
export type JwtStatus = (typeof JwtStatus)[keyof typeof JwtStatus];

/** A verification that finished synchronously (no signature to check), or one still checking a signature. */
export type JwtResult = JwtStatus | Promise<JwtStatus>;

/** Runs `next` on a result, synchronously when it is already known. */
export function thenStatus(result: JwtResult, next: (status: JwtStatus) => JwtResult): JwtResult {
  return typeof result === 'string' ? next(result) : result.then(next);
}
