// The ADS client's codec for the proxy: Envoy's protos (the same files and include paths as
// protos.ts) loaded straight into protobufjs, and a grpc-js client for the ADS service built on
// them. The control plane uses @grpc/proto-loader (protos.ts), which also builds a descriptor
// object per message type for gRPC reflection; a sidecar has no use for those, and leaving them out
// saves it memory and start-up time. Messages decode exactly as through proto-loader with
// the same decodeOptions (protos-list.ts).
import { createRequire } from 'node:module';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decodeOptions, envoyProtoFiles, protoIncludeDirs } from './protos-list.ts';

const require = createRequire(import.meta.url);

/** As proto-loader does: descriptor.proto (imported by validate.proto) comes from protobufjs's bundled copy. */
type BundledProto = { nested: { google: { nested: { protobuf: { nested: Record<string, unknown> } } } } };
protobuf.common('descriptor', (require('protobufjs/google/protobuf/descriptor.json') as BundledProto).nested.google.nested.protobuf.nested);

let root: protobuf.Root | undefined;

/** Envoy's protos in one protobufjs root, loaded once per process. */
export function envoyRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => {
      for (const dir of protoIncludeDirs) {
        const path = join(dir, target);
        try {
          accessSync(path, constants.R_OK);
          return path;
        } catch {
          // next include directory
        }
      }
      return target;
    };
    r.loadSync(envoyProtoFiles, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

function codec(type: protobuf.Type): { serialize: (value: object) => Buffer; deserialize: (bytes: Buffer) => object } {
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), decodeOptions),
  };
}

let client: grpc.ServiceClientConstructor | undefined;

/** The AggregatedDiscoveryService client (state of the world: StreamAggregatedResources). */
export function adsClient(): grpc.ServiceClientConstructor {
  if (client === undefined) {
    const r = envoyRoot();
    const request = codec(r.lookupType('envoy.service.discovery.v3.DiscoveryRequest'));
    const response = codec(r.lookupType('envoy.service.discovery.v3.DiscoveryResponse'));
    client = grpc.makeGenericClientConstructor({
      StreamAggregatedResources: {
        path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
        requestStream: true,
        responseStream: true,
        requestSerialize: request.serialize,
        requestDeserialize: request.deserialize,
        responseSerialize: response.serialize,
        responseDeserialize: response.deserialize,
      },
    }, 'AggregatedDiscoveryService');
  }
  return client;
}
