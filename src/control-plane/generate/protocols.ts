// Istio protocol names of a service port (ServiceEntry ports[].protocol or the port-name prefix) as the
// generator groups them: what goes through the HTTP connection manager, and what speaks HTTP/2 to the
// endpoints.
export const httpProtocols: ReadonlySet<string> = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
export const http2Protocols: ReadonlySet<string> = new Set(['HTTP2', 'GRPC', 'GRPC-WEB']);
