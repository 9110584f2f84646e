// IP addresses and CIDR ranges (envoy.config.core.v3.CidrRange) for filter chain matching: parsed
// once at config time into bytes; a connection's addresses are parsed once per connection, and only
// when some filter chain of the listener matches on them.
import { isIP } from 'node:net';
import { FieldPath, isPresent, message, requiredString, uintWrapper } from '../upstream/envoy-config.ts';

export class CidrRange {
  /** 4 or 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  readonly prefixLen: number;
  /** Normalized text (`10.0.0.0/8`): equal ranges have equal keys. */
  readonly key: string;

  constructor(bytes: Uint8Array, prefixLen: number) {
    const masked = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
      masked[i] = bytes[i] & ((0xff << (8 - bits)) & 0xff);
    }
    this.bytes = masked;
    this.prefixLen = prefixLen;
    this.key = `${formatIp(masked)}/${prefixLen}`;
  }

  /** Whether `address` (4 or 16 bytes, as from parseIp) lies in this range; families never mix. */
  contains(address: Uint8Array): boolean {
    if (address.length !== this.bytes.length) return false;
    const full = this.prefixLen >> 3;
    for (let i = 0; i < full; i++) if (address[i] !== this.bytes[i]) return false;
    const rest = this.prefixLen & 7;
    if (rest === 0) return true;
    const mask = (0xff << (8 - rest)) & 0xff;
    return (address[full] & mask) === this.bytes[full];
  }
}

/** A CidrRange message: `{address_prefix, prefix_len}`; prefix_len defaults to 0, as in Envoy. */
export function compileCidrRange(at: FieldPath, value: unknown): CidrRange {
  const range = message(at, value);
  for (const key of Object.keys(range)) {
    if (key !== 'address_prefix' && key !== 'prefix_len' && isPresent(range[key])) at.field(key).reject('is not supported');
  }
  const text = requiredString(at.field('address_prefix'), range.address_prefix);
  const bytes = parseIp(text);
  if (bytes === null) throw at.field('address_prefix').error(`${JSON.stringify(text)} is not an IP address`);
  const prefixLen = uintWrapper(at.field('prefix_len'), range.prefix_len) ?? 0;
  if (prefixLen > bytes.length * 8) at.field('prefix_len').reject(`${prefixLen} is out of range for ${text}`);
  return new CidrRange(bytes, prefixLen);
}

/**
 * An IP address as bytes (4 for IPv4, 16 for IPv6), or null. An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, what a dual-stack socket reports for an IPv4 peer) is read as the IPv4 address,
 * so that IPv4 ranges match it.
 */
export function parseIp(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const plain = zone === -1 ? text : text.slice(0, zone);
  const family = isIP(plain);
  if (family === 4) return parseIpv4(plain);
  if (family !== 6) return null;
  const bytes = parseIpv6(plain);
  if (bytes === null) return null;
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[i] !== 0) mapped = false;
  return mapped ? bytes.slice(12) : bytes;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const words: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.includes('.')) {
        if (i !== items.length - 1) return null;
        const v4 = parseIpv4(item);
        if (v4 === null) return null;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        words.push(parseInt(item, 16));
      }
    }
    return words;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i] >> 8;
    out[i * 2 + 1] = words[i] & 0xff;
  }
  return out;
}

function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}
