// A strict HTTP/1.1 message reader for the wire tests: it splits a byte stream into requests or
// responses exactly as RFC 9112 frames them (CRLF line endings only, token header names, one
// Content-Length or `Transfer-Encoding: chunked`, never both) and throws on anything else, so that a
// test sees every byte that crossed a side of the proxy and whether it was well-formed.

export type Field = [name: string, value: string];

export type Message = {
  /** The request line or status line. */
  startLine: string;
  method: string;
  target: string;
  /** Response status; 0 for a request. */
  status: number;
  /** Header fields as received (names keep their case). */
  headers: Field[];
  /** The decoded body (chunk framing removed). */
  body: Buffer;
  /** Chunk extensions as received, one per chunk (without the leading `;`; '' when none). */
  chunkExtensions: string[];
  /** The trailer section of a chunked body. */
  trailers: Field[];
  chunked: boolean;
  /** Every byte of the message as received. */
  raw: Buffer;
};

export class WireError extends Error {}

const tokenName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const requestLine = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.[01]$/;
const statusLine = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;
// Field values: visible characters, obs-text, spaces and tabs (RFC 9110 §5.5).
const fieldValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The value of a header (names compared case-insensitively), repeated fields joined with ', '. */
export function header(message: Pick<Message, 'headers'>, name: string): string | undefined {
  const values = message.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}

function parseFields(lines: string[]): Field[] {
  const fields: Field[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new WireError(`field line without a name: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!tokenName.test(name)) throw new WireError(`invalid field name: ${JSON.stringify(name)}`);
    if (!fieldValue.test(value)) throw new WireError(`invalid field value: ${JSON.stringify(value)}`);
    fields.push([name, value]);
  }
  return fields;
}

/** Splits a head or trailer section into CRLF lines; a bare CR or LF anywhere is an error. */
function splitLines(text: string): string[] {
  const lines = text.split('\r\n');
  for (const line of lines) if (/[\r\n]/.test(line)) throw new WireError(`bare CR or LF in ${JSON.stringify(line)}`);
  return lines;
}

type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

function framing(message: Message, kind: 'request' | 'response'): Framing {
  const te = message.headers.filter(([n]) => n.toLowerCase() === 'transfer-encoding');
  const cl = message.headers.filter(([n]) => n.toLowerCase() === 'content-length');
  if (te.length > 0 && cl.length > 0) throw new WireError('both Content-Length and Transfer-Encoding');
  if (kind === 'response' && ((message.status >= 100 && message.status < 200) || message.status === 204 || message.status === 304)) return { kind: 'none' };
  if (te.length > 0) {
    if (te.length !== 1 || te[0][1].toLowerCase() !== 'chunked') throw new WireError(`unsupported Transfer-Encoding: ${te.map(([, v]) => v).join(', ')}`);
    return { kind: 'chunked' };
  }
  if (cl.length > 0) {
    const values = new Set(cl.flatMap(([, v]) => v.split(',').map((s) => s.trim())));
    if (values.size !== 1) throw new WireError(`conflicting Content-Length: ${[...values].join(', ')}`);
    const [value] = values;
    if (!/^\d{1,15}$/.test(value)) throw new WireError(`invalid Content-Length: ${value}`);
    return { kind: 'length', length: Number(value) };
  }
  return kind === 'request' ? { kind: 'none' } : { kind: 'close' };
}

/**
 * Reads a chunked body from `start`: the end offset of the message, or null when incomplete. Chunk
 * extensions and trailers are recorded on `message`.
 */
function readChunked(buf: Buffer, start: number, message: Message): number | null {
  const parts: Buffer[] = [];
  let at = start;
  while (true) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol === -1) return null;
    const line = buf.toString('latin1', at, eol);
    const m = /^([0-9a-fA-F]{1,15})(?:;(.*))?$/.exec(line);
    if (m === null || /[\r\n]/.test(line)) throw new WireError(`invalid chunk size line: ${JSON.stringify(line)}`);
    const size = parseInt(m[1], 16);
    message.chunkExtensions.push(m[2] ?? '');
    at = eol + 2;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', at - 2, 'latin1');
      if (end === -1) return null;
      const section = buf.toString('latin1', at, end);
      message.trailers = section === '' ? [] : parseFields(splitLines(section));
      message.body = Buffer.concat(parts);
      return end + 4;
    }
    if (buf.length < at + size + 2) return null;
    parts.push(buf.subarray(at, at + size));
    if (buf[at + size] !== 13 || buf[at + size + 1] !== 10) throw new WireError('chunk data not followed by CRLF');
    at += size + 2;
  }
}

/**
 * One message from `buf` at `offset`: the message and the offset after it, or null when more bytes
 * are needed. `ended`: no more bytes will come (a response without framing ends there).
 */
export function parseMessage(buf: Buffer, offset: number, kind: 'request' | 'response', ended: boolean): { message: Message; end: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
  if (headEnd === -1) {
    if (ended && offset < buf.length) throw new WireError(`incomplete head: ${JSON.stringify(buf.toString('latin1', offset))}`);
    return null;
  }
  const [start, ...fieldLines] = splitLines(buf.toString('latin1', offset, headEnd));
  const message: Message = {
    startLine: start, method: '', target: '', status: 0, headers: parseFields(fieldLines),
    body: Buffer.alloc(0), chunkExtensions: [], trailers: [], chunked: false, raw: Buffer.alloc(0),
  };
  if (kind === 'request') {
    const m = requestLine.exec(start);
    if (m === null) throw new WireError(`invalid request line: ${JSON.stringify(start)}`);
    message.method = m[1];
    message.target = m[2];
  } else {
    const m = statusLine.exec(start);
    if (m === null) throw new WireError(`invalid status line: ${JSON.stringify(start)}`);
    message.status = Number(m[1]);
  }
  const bodyStart = headEnd + 4;
  const frame = framing(message, kind);
  let end: number | null;
  switch (frame.kind) {
    case 'none': end = bodyStart; break;
    case 'length':
      end = buf.length >= bodyStart + frame.length ? bodyStart + frame.length : null;
      if (end !== null) message.body = buf.subarray(bodyStart, end);
      break;
    case 'chunked':
      message.chunked = true;
      end = readChunked(buf, bodyStart, message);
      break;
    case 'close':
      end = ended ? buf.length : null;
      if (end !== null) message.body = buf.subarray(bodyStart, end);
      break;
  }
  if (end === null) {
    if (ended) throw new WireError('connection closed inside the message body');
    return null;
  }
  message.raw = buf.subarray(offset, end);
  return { message, end };
}
