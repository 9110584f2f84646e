// Errors a user of the certificate authority or of workload tokens can cause, each with a stable code
// (DESIGN.md habit 10).
//   WEFT_E_CA_INVALID_IDENTITY  a namespace, service account or trust domain is not a valid name
//   WEFT_E_CA_INVALID_REQUEST   a certificate or token request is malformed (bad TTL, no SANs, ...)
//   WEFT_E_CA_PLUGGED           a plugged-in CA certificate, key or chain is unusable
//   WEFT_E_CA_UNSUPPORTED       the operation does not apply to this CA (root rotation of a plugged-in CA)
//   WEFT_E_CA_CORRUPT           the CA state in the store cannot be read

export class CaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export const invalidIdentity = (message: string): CaError => new CaError('WEFT_E_CA_INVALID_IDENTITY', message);
export const invalidRequest = (message: string): CaError => new CaError('WEFT_E_CA_INVALID_REQUEST', message);
export const pluggedCaError = (message: string, cause?: unknown): CaError =>
  new CaError('WEFT_E_CA_PLUGGED', `plugged-in CA: ${message}`, cause === undefined ? undefined : { cause });
