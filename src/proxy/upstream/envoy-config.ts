// Reading Envoy v3 resources as protobufjs decodes them (keepCase, enums as strings, 64-bit ints as
// strings, wrappers as {value}, Anys unpacked with '@type', no defaults filled in), and the error that
// rejects a config. Used by every config compiler of the proxy (clusters, endpoints, routes, listeners),
// so it lives in the lowest layer of the data plane.
//
// Rule (DESIGN.md decision 8 and the proxy brief): a field we cannot honour is never silently ignored.
// Each compiler names the fields it supports (or knows to be informational); any other field that is
// present rejects the resource, naming the resource and the field.

/** Thrown when a config cannot be applied; its message is the NACK's error_detail. */
export class ConfigRejectedError extends Error {
  override name = 'ConfigRejectedError';
}

export type Message = Record<string, unknown>;

/** Where a value sits: `Cluster outbound|9080||reviews: circuit_breakers.thresholds[0]`. Config time only. */
export class FieldPath {
  readonly resource: string;
  readonly path: string;

  constructor(resource: string, path = '') {
    this.resource = resource;
    this.path = path;
  }

  field(name: string): FieldPath {
    return new FieldPath(this.resource, this.path === '' ? name : `${this.path}.${name}`);
  }

  item(index: number): FieldPath {
    return new FieldPath(this.resource, `${this.path}[${index}]`);
  }

  /** The error `<resource>: <path> <reason>`; `throw at.error(...)` where TypeScript must narrow. */
  error(reason: string): ConfigRejectedError {
    return new ConfigRejectedError(this.path === '' ? `${this.resource}: ${reason}` : `${this.resource}: ${this.path} ${reason}`);
  }

  /** Throws `error(reason)`. */
  reject(reason: string): never {
    throw this.error(reason);
  }
}

export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Rejects any present field of `message` not in `supported`. */
export function checkFields(at: FieldPath, message: Message, supported: ReadonlySet<string>): void {
  for (const key of Object.keys(message)) {
    if (supported.has(key) || !isPresent(message[key])) continue;
    at.field(key).reject('is not supported');
  }
}

export function message(at: FieldPath, value: unknown): Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) at.reject('must be a message');
  return value as Message;
}

/** An optional sub-message: undefined when absent. */
export function optionalMessage(at: FieldPath, value: unknown): Message | undefined {
  return isPresent(value) ? message(at, value) : undefined;
}

export function repeated(at: FieldPath, value: unknown): unknown[] {
  if (!isPresent(value)) return [];
  if (!Array.isArray(value)) at.reject('must be a list');
  return value;
}

export function string(at: FieldPath, value: unknown): string | undefined {
  if (!isPresent(value)) return undefined;
  if (typeof value !== 'string') at.reject('must be a string');
  return value;
}

export function requiredString(at: FieldPath, value: unknown): string {
  const s = string(at, value);
  if (s === undefined || s === '') at.reject('is required');
  return s;
}

/** An integer field (uint32/int64 arrive as number or decimal string). */
export function integer(at: FieldPath, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) at.reject(`must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * google.protobuf.UInt32Value / UInt64Value: `{value}`; an absent value inside a present wrapper is 0.
 * The bare number of the proto3 JSON mapping is accepted too (hand-written configs).
 */
export function uintWrapper(at: FieldPath, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  const n = typeof value === 'object' ? integer(at.field('value'), message(at, value).value) ?? 0 : integer(at, value)!;
  if (n < 0) at.reject('must not be negative');
  return n;
}

/** google.protobuf.BoolValue: `{value}`; an absent value inside a present wrapper is false. A bare boolean is accepted too. */
export function boolWrapper(at: FieldPath, value: unknown): boolean | undefined {
  if (!isPresent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  const v = message(at, value).value;
  if (isPresent(v) && typeof v !== 'boolean') at.field('value').reject('must be a boolean');
  return v === true;
}

export function bool(at: FieldPath, value: unknown): boolean | undefined {
  if (!isPresent(value)) return undefined;
  if (typeof value !== 'boolean') at.reject('must be a boolean');
  return value;
}

/**
 * google.protobuf.Duration in milliseconds: `{seconds, nanos}`, either may be absent, seconds may be a
 * string. The proto3 JSON form (`"1.5s"`) is accepted too.
 */
export function durationMs(at: FieldPath, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  if (typeof value === 'string') {
    const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
    if (!m) at.reject(`${JSON.stringify(value)} is not a duration`);
    return Number(m[1]) * 1000 + Math.floor(Number((m[2] ?? '0').padEnd(9, '0')) / 1e6);
  }
  const d = message(at, value);
  const seconds = integer(at.field('seconds'), d.seconds) ?? 0;
  const nanos = integer(at.field('nanos'), d.nanos) ?? 0;
  if (seconds < 0 || nanos < 0) at.reject('must not be negative');
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/** The type URL of an unpacked Any: '@type' when protobufjs knew the type, else `type_url`. */
export function typeUrlOf(any: Message): string {
  const t = any['@type'] ?? any.type_url;
  return typeof t === 'string' ? t : '';
}

export type SocketAddress = { address: string; port: number };

const socketAddressFields = new Set(['address', 'port_value', 'protocol', 'ipv4_compat']);

/** envoy.config.core.v3.Address holding a socket_address (pipes and internal addresses are not supported). */
export function socketAddress(at: FieldPath, value: unknown, allowPortZero: boolean): SocketAddress {
  const address = message(at, value);
  checkFields(at, address, new Set(['socket_address']));
  const sa = optionalMessage(at.field('socket_address'), address.socket_address);
  if (!sa) throw at.field('socket_address').error('is required');
  const sap = at.field('socket_address');
  checkFields(sap, sa, socketAddressFields);
  if (isPresent(sa.protocol) && sa.protocol !== 'TCP') sap.field('protocol').reject(`${String(sa.protocol)} is not supported`);
  const host = requiredString(sap.field('address'), sa.address);
  const port = integer(sap.field('port_value'), sa.port_value) ?? 0;
  if (port < 0 || port > 65535 || (port === 0 && !allowPortZero)) sap.field('port_value').reject(`${port} is not a valid port`);
  return { address: host, port };
}

/**
 * A canonical text of a resource, to tell an unchanged resource from a changed one at config time
 * (object key order from the decoder is stable, but hand-written resources may differ: sort keys).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) return v;
    const sorted: Message = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Message)[k];
    return sorted;
  });
}
