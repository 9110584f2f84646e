// Port protocols, as Istio parses them (case-insensitively). Istio documents HTTP, HTTPS, GRPC,
// HTTP2, MONGO, TCP and TLS; its parser also accepts GRPC-WEB, HTTP_PROXY, MYSQL, REDIS and UDP,
// so YAML that Istio accepts is accepted here too.

import type { Problem } from '../schema.ts';

export const DOCUMENTED_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS'] as const;
const ALSO_ACCEPTED = ['GRPC-WEB', 'HTTP_PROXY', 'MYSQL', 'REDIS', 'UDP'] as const;
const KNOWN = new Set<string>([...DOCUMENTED_PROTOCOLS, ...ALSO_ACCEPTED]);

/** The canonical (upper case) protocol name, or undefined if Istio does not know it. */
export function parseProtocol(p: string): string | undefined {
  const upper = p.toUpperCase();
  return KNOWN.has(upper) ? upper : undefined;
}

export function protocolProblem(p: string): Problem {
  if (parseProtocol(p) !== undefined) return undefined;
  return `"${p}" is not a supported protocol (use one of ${DOCUMENTED_PROTOCOLS.join(', ')})`;
}

export function isHttpProtocol(p: string | undefined): boolean {
  return ['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB'].includes(parseProtocol(p ?? '') ?? '');
}

export function isTlsProtocol(p: string | undefined): boolean {
  return ['HTTPS', 'TLS'].includes(parseProtocol(p ?? '') ?? '');
}
