// Reading a TLS ClientHello from the first bytes of a connection, as tls_inspector does: the record
// layer (type 22, version 3.x, at most 2^14 bytes each) is reassembled until the whole handshake
// message is in, then the ClientHello is parsed for the server_name (SNI) and ALPN extensions.
//
// Incremental: the parser is fed the growing prefix of the stream and keeps its place, so a ClientHello
// that arrives a byte at a time, or spread over several records and TCP segments, costs one pass.
// Anything that is not a well-formed ClientHello is "not TLS" as soon as the bytes prove it; a
// ClientHello that would need more than `maxBytes` is "too large" (Envoy closes such connections).

export const ClientHelloStatus = {
  /** The bytes so far are the beginning of a ClientHello: feed more. */
  NeedMore: 0,
  /** A complete, well-formed ClientHello: serverName and alpn are set. */
  Found: 1,
  NotTls: 2,
  TooLarge: 3,
} as const;
export type ClientHelloStatus = (typeof ClientHelloStatus)[keyof typeof ClientHelloStatus];

const recordHeaderLength = 5;
const handshakeContentType = 22;
const clientHelloType = 1;
/** TLSPlaintext.length must not exceed 2^14. */
const maxRecordLength = 16384;
const extensionServerName = 0;
const extensionAlpn = 16;
const maxHostNameLength = 255;

/** Envoy's tls_inspector limit on the bytes it reads looking for a ClientHello. */
export const defaultMaxClientHelloBytes = 64 * 1024;

export class ClientHelloParser {
  /** The SNI host name, ASCII-lowercased; '' when the ClientHello has none. */
  serverName = '';
  /** ALPN protocol names in the client's order; empty when the ClientHello has none. */
  alpn: string[] = [];
  private readonly maxBytes: number;
  /** Where the next record header starts in the stream. */
  private recordAt = 0;
  /** The handshake bytes reassembled from record payloads. */
  private handshake: Buffer = Buffer.alloc(0);
  private handshakeLength = 0;
  private status: ClientHelloStatus = ClientHelloStatus.NeedMore;

  constructor(maxBytes = defaultMaxClientHelloBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * `data[0..length)` is everything received so far (each call sees the previous bytes again, plus
   * new ones). Once the answer is not NeedMore it does not change.
   */
  parse(data: Buffer, length: number): ClientHelloStatus {
    if (this.status !== ClientHelloStatus.NeedMore) return this.status;
    this.status = this.advance(data, length);
    return this.status;
  }

  private advance(data: Buffer, length: number): ClientHelloStatus {
    while (true) {
      const at = this.recordAt;
      if (length - at < recordHeaderLength) {
        // Reject early on what the header's first bytes already show.
        if (length > at && data[at] !== handshakeContentType) return ClientHelloStatus.NotTls;
        if (length > at + 1 && data[at + 1] !== 3) return ClientHelloStatus.NotTls;
        return this.needMore(length);
      }
      const minor = data[at + 2];
      const recordLength = data.readUInt16BE(at + 3);
      if (data[at] !== handshakeContentType || data[at + 1] !== 3 || minor > 4) return ClientHelloStatus.NotTls;
      if (recordLength === 0 || recordLength > maxRecordLength) return ClientHelloStatus.NotTls;
      const payloadAt = at + recordHeaderLength;
      if (this.handshakeLength === 0 && length > payloadAt) {
        // The handshake header is at the start of the first record: judge it before the record is complete.
        if (data[payloadAt] !== clientHelloType) return ClientHelloStatus.NotTls;
        if (recordLength >= 4 && length >= payloadAt + 4 && 4 + data.readUIntBE(payloadAt + 1, 3) > this.maxBytes) return ClientHelloStatus.TooLarge;
      }
      if (length - payloadAt < recordLength) return this.needMore(length);

      this.append(data, payloadAt, recordLength);
      this.recordAt = payloadAt + recordLength;
      if (this.handshake[0] !== clientHelloType) return ClientHelloStatus.NotTls;
      if (this.handshakeLength < 4) continue;
      const bodyLength = this.handshake.readUIntBE(1, 3);
      if (4 + bodyLength > this.maxBytes) return ClientHelloStatus.TooLarge;
      if (this.handshakeLength >= 4 + bodyLength) return this.parseBody(this.handshake.subarray(4, 4 + bodyLength));
    }
  }

  private needMore(length: number): ClientHelloStatus {
    return length >= this.maxBytes ? ClientHelloStatus.TooLarge : ClientHelloStatus.NeedMore;
  }

  private append(data: Buffer, from: number, count: number): void {
    const needed = this.handshakeLength + count;
    if (needed > this.handshake.length) {
      const grown = Buffer.alloc(Math.max(needed, this.handshake.length * 2, 512));
      this.handshake.copy(grown, 0, 0, this.handshakeLength);
      this.handshake = grown;
    }
    data.copy(this.handshake, this.handshakeLength, from, from + count);
    this.handshakeLength = needed;
  }

  /** The ClientHello body (after the 4-byte handshake header). */
  private parseBody(body: Buffer): ClientHelloStatus {
    const r = new Reader(body);
    // legacy_version: TLS 1.0 or later (1.3 says 1.2 here and lists itself in supported_versions).
    if (r.u8() !== 3 || r.u8() < 1) return ClientHelloStatus.NotTls;
    r.skip(32); // random
    const sessionId = r.u8();
    if (sessionId > 32) return ClientHelloStatus.NotTls;
    r.skip(sessionId);
    const cipherSuites = r.u16();
    if (cipherSuites < 2 || cipherSuites % 2 !== 0) return ClientHelloStatus.NotTls;
    r.skip(cipherSuites);
    const compressionMethods = r.u8();
    if (compressionMethods < 1) return ClientHelloStatus.NotTls;
    r.skip(compressionMethods);
    if (!r.ok) return ClientHelloStatus.NotTls;
    if (r.remaining === 0) return ClientHelloStatus.Found; // no extensions at all (TLS 1.0 style)
    const extensionsLength = r.u16();
    if (!r.ok || extensionsLength !== r.remaining) return ClientHelloStatus.NotTls;
    const seen = new Set<number>();
    while (r.remaining > 0) {
      const type = r.u16();
      const len = r.u16();
      if (!r.ok || len > r.remaining || seen.has(type)) return ClientHelloStatus.NotTls;
      seen.add(type);
      const ext = r.sub(len);
      if (type === extensionServerName && !this.readServerName(ext)) return ClientHelloStatus.NotTls;
      if (type === extensionAlpn && !this.readAlpn(ext)) return ClientHelloStatus.NotTls;
    }
    return ClientHelloStatus.Found;
  }

  /** server_name: exactly one host_name entry, 1..255 bytes, no NUL (as BoringSSL requires). */
  private readServerName(r: Reader): boolean {
    const listLength = r.u16();
    if (!r.ok || listLength !== r.remaining) return false;
    const nameType = r.u8();
    const nameLength = r.u16();
    if (!r.ok || nameType !== 0 || nameLength === 0 || nameLength > maxHostNameLength || nameLength !== r.remaining) return false;
    const name = r.bytes(nameLength);
    if (name.includes(0)) return false;
    let text = '';
    for (const b of name) text += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
    this.serverName = text;
    return true;
  }

  /** application_layer_protocol_negotiation: a non-empty list of non-empty names. */
  private readAlpn(r: Reader): boolean {
    const listLength = r.u16();
    if (!r.ok || listLength !== r.remaining || listLength < 2) return false;
    const names: string[] = [];
    while (r.remaining > 0) {
      const len = r.u8();
      if (!r.ok || len === 0 || len > r.remaining) return false;
      names.push(r.bytes(len).toString('latin1'));
    }
    this.alpn = names;
    return true;
  }
}

/** Bounds-checked big-endian reads; a read past the end sets ok = false and returns 0. */
class Reader {
  private readonly buf: Buffer;
  private at = 0;
  ok = true;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get remaining(): number {
    return this.ok ? this.buf.length - this.at : 0;
  }

  private take(n: number): number {
    if (!this.ok || this.at + n > this.buf.length) {
      this.ok = false;
      return -1;
    }
    const start = this.at;
    this.at += n;
    return start;
  }

  u8(): number {
    const i = this.take(1);
    return i < 0 ? 0 : this.buf[i];
  }

  u16(): number {
    const i = this.take(2);
    return i < 0 ? 0 : this.buf.readUInt16BE(i);
  }

  skip(n: number): void {
    this.take(n);
  }

  bytes(n: number): Buffer {
    const i = this.take(n);
    return i < 0 ? Buffer.alloc(0) : this.buf.subarray(i, i + n);
  }

  sub(n: number): Reader {
    return new Reader(this.bytes(n));
  }
}
