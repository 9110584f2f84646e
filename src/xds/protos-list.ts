// Which of Envoy's v3 API protos Weft loads (as shipped by @grpc/grpc-js-xds under deps/), and where
// their imports are found: shared by the control plane's loader (protos.ts) and the proxy's
// (ads-codec.ts). Nothing here is hand-written: the .proto files are Envoy's own.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const xdsPackageRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const deps = join(xdsPackageRoot, 'deps');

export const protoIncludeDirs = [
  join(deps, 'envoy-api'),
  join(deps, 'xds'),
  join(deps, 'googleapis'),
  join(deps, 'protoc-gen-validate'),
];

/** Every Envoy proto whose messages Weft sends or accepts, directly or packed in an Any. */
export const envoyProtoFiles = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/filters/cel/v3/cel.proto',
  'xds/type/v3/typed_struct.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
];

/**
 * How messages decode at both ends: Envoy's snake_case names kept (a load option, keepCase), enums
 * and 64-bit integers as strings, no defaults filled in, and (json) every Any turned into an object
 * with an '@type' field, so nested typed configs arrive ready to read.
 */
export const decodeOptions = { longs: String, enums: String, defaults: false, oneofs: false, json: true };
