// Loads Envoy's v3 API protos (as shipped by @grpc/grpc-js-xds under deps/) into one protobufjs root,
// so that every type that can appear inside a google.protobuf.Any is known to both the control plane
// and the proxy. Nothing here is hand-written: the .proto files are Envoy's own.
import { decodeOptions, envoyProtoFiles, protoIncludeDirs } from './protos-list.ts';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';

export { envoyProtoFiles, protoIncludeDirs } from './protos-list.ts';

/** proto-loader's options: the shared decoding (protos-list.ts) with Envoy's snake_case names and the include paths. */
export const protoOptions: protoLoader.Options = { keepCase: true, ...decodeOptions, includeDirs: protoIncludeDirs };

let cached: grpc.GrpcObject | undefined;
let cachedDefinition: protoLoader.PackageDefinition | undefined;

/** Loads the protos once per process (a few hundred milliseconds) and returns the gRPC object tree. */
export function loadEnvoyProtos(): { grpcObject: grpc.GrpcObject; definition: protoLoader.PackageDefinition } {
  if (!cached || !cachedDefinition) {
    cachedDefinition = protoLoader.loadSync(envoyProtoFiles, protoOptions);
    cached = grpc.loadPackageDefinition(cachedDefinition);
  }
  return { grpcObject: cached, definition: cachedDefinition };
}

/** The ADS service constructor (envoy.service.discovery.v3.AggregatedDiscoveryService). */
export function adsServiceClient(): grpc.ServiceClientConstructor {
  const { grpcObject } = loadEnvoyProtos();
  const ns = (grpcObject.envoy as any).service.discovery.v3;
  return ns.AggregatedDiscoveryService as grpc.ServiceClientConstructor;
}
