// The shapes of the Envoy resources the generator emits, as protobufjs plain objects with Envoy's
// snake_case field names ('@type' marks a google.protobuf.Any). Only what we set is typed.
export interface SocketAddress { socket_address: { address: string; port_value: number } }
export interface Duration { seconds: number; nanos?: number }

export interface EnvoyResource { name?: string; cluster_name?: string; [field: string]: unknown }

export function duration(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export function socketAddress(address: string, port: number): SocketAddress {
  return { socket_address: { address, port_value: port } };
}
