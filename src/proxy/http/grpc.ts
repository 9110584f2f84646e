// gRPC as the connection manager sees it: whether a request is gRPC (Envoy's
// Grpc::Common::hasGrpcContentType), the gRPC status of a local reply to a gRPC request (Envoy's
// Grpc::Utility::httpToGrpcStatus, which follows gRPC's doc/http-grpc-status-mapping.md), and the
// percent-encoding of grpc-message (gRPC's PROTOCOL-HTTP2.md).

/** The gRPC status codes a local reply can map to. */
export const GrpcStatus = {
  Ok: 0,
  Cancelled: 1,
  Unknown: 2,
  DeadlineExceeded: 4,
  PermissionDenied: 7,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

/**
 * `application/grpc`, `application/grpc+<codec>` or `application/grpc;<params>` (not gRPC-Web's
 * `application/grpc-web…`, which Envoy does not treat as gRPC here either).
 */
export function isGrpcContentType(value: string): boolean {
  if (!value.startsWith('application/grpc')) return false;
  if (value.length === 16) return true;
  const c = value.charCodeAt(16);
  return c === 43 /* + */ || c === 59 /* ; */;
}

/**
 * The gRPC status Envoy gives a local reply of HTTP status `status` to a gRPC request. Note that a 504
 * (route timeout) maps to UNAVAILABLE, as in Envoy: DEADLINE_EXCEEDED is what the client's own
 * deadline produces.
 */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return GrpcStatus.Internal;
    case 401: return GrpcStatus.Unauthenticated;
    case 403: return GrpcStatus.PermissionDenied;
    case 404: return GrpcStatus.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504: return GrpcStatus.Unavailable;
    default: return GrpcStatus.Unknown;
  }
}

/** grpc-message: UTF-8 bytes outside printable ASCII, and '%', as %XX. */
export function encodeGrpcMessage(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}
