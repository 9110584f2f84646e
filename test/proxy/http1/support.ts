// Both sides of the proxy's HTTP/1.1 wire, byte for byte: a raw TCP client that writes exact bytes and
// reads the responses back as they came, and a raw upstream (node:net) that records every byte stream
// the proxy sent it, parses it strictly (wire.ts) and answers with exact bytes. A proxy in-process
// (harness.ts) routes every request to the raw upstream, except for the host `nowhere.test`, which no
// route matches.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Harness } from '../support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from '../support/resources.ts';
import { parseMessage, WireError, type Message } from './wire.ts';

/** How long a test waits for something before failing (a deadline, never a sleep). */
export const deadlineMs = 5000;

function deadline<T>(what: string, promise: Promise<T>, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; ${describe()}`)), deadlineMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * What the raw upstream answers: exact bytes; then it closes, or (after a 101) echoes what it
 * receives. With `after`, the bytes are written once it settles (and the reply neither closes nor
 * tunnels).
 */
export type Reply = { bytes: string | Buffer; close?: boolean; tunnel?: boolean; after?: Promise<unknown> };
export type Responder = (request: Message) => Reply;

export const okReply = (body: string): Reply => ({ bytes: `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}` });

/** The counts of what the upstream received, to compare before and after a test's request. */
export type UpstreamMark = { requests: number; malformed: number; partial: number; connections: number };

export class RawUpstream {
  readonly server: net.Server;
  port = 0;
  /** Well-formed requests received, in order. */
  readonly requests: Message[] = [];
  /** Bytes that were not a well-formed request, with the reason. */
  readonly malformed: { error: string; bytes: string }[] = [];
  /** Bytes of a request cut short by the connection closing (the head may be complete). */
  readonly partial: string[] = [];
  /** Every byte each connection received, in order (latin1). */
  readonly streams: string[] = [];
  /** Answers by request target; others get 200 `ok <target>`. */
  readonly replies = new Map<string, Reply | Responder>();
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer({ allowHalfOpen: false }, (socket) => this.serve(socket));
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  mark(): UpstreamMark {
    return { requests: this.requests.length, malformed: this.malformed.length, partial: this.partial.length, connections: this.streams.length };
  }

  /** Requests received since `mark`. */
  since(mark: UpstreamMark): Message[] {
    return this.requests.slice(mark.requests);
  }

  /** Waits until `n` requests arrived since `mark`. */
  async waitRequests(mark: UpstreamMark, n: number): Promise<Message[]> {
    await deadline(`${n} upstream request(s)`, (async () => {
      while (this.requests.length - mark.requests < n) await new Promise((r) => setTimeout(r, 5));
    })(), () => `upstream saw ${JSON.stringify(this.streams.slice(mark.connections))}`);
    return this.since(mark);
  }

  private serve(socket: net.Socket): void {
    const index = this.streams.push('') - 1;
    this.sockets.add(socket);
    socket.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    let tunnel = false;
    let broken = false;
    const drain = (ended: boolean): void => {
      let offset = 0;
      while (!tunnel && !broken && offset < buf.length) {
        let parsed: ReturnType<typeof parseMessage>;
        try {
          parsed = parseMessage(buf, offset, 'request', false);
        } catch (err) {
          broken = true;
          this.malformed.push({ error: (err as Error).message, bytes: buf.toString('latin1', offset) });
          socket.destroy();
          return;
        }
        if (parsed === null) break;
        offset = parsed.end;
        this.requests.push(parsed.message);
        const reply = this.reply(parsed.message);
        if (reply.after !== undefined) {
          // Answered later: requests behind it wait (HTTP/1.1 answers in order).
          socket.pause();
          const rest = buf.subarray(offset);
          buf = Buffer.alloc(0);
          void reply.after.finally(() => {
            this.write(socket, reply);
            buf = buf.length === 0 ? rest : Buffer.concat([rest, buf]);
            socket.resume();
            drain(false);
          });
          return;
        }
        this.write(socket, reply);
        if (reply.tunnel) {
          tunnel = true;
          const rest = buf.subarray(offset);
          offset = buf.length;
          if (rest.length > 0) socket.write(rest);
        } else if (reply.close) {
          socket.end();
          broken = true;
        }
      }
      buf = buf.subarray(offset);
      if (ended && !tunnel && buf.length > 0) this.partial.push(buf.toString('latin1'));
    };
    socket.on('data', (chunk: Buffer) => {
      this.streams[index] += chunk.toString('latin1');
      if (tunnel) {
        socket.write(chunk);
        return;
      }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      drain(false);
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      drain(true);
    });
  }

  private write(socket: net.Socket, reply: Reply): void {
    if (!socket.destroyed) socket.write(reply.bytes);
  }

  private reply(request: Message): Reply {
    const chosen = this.replies.get(request.target);
    if (chosen === undefined) return okReply(`ok ${request.target}`);
    return typeof chosen === 'function' ? chosen(request) : chosen;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise((r) => this.server.close(r));
  }
}

/** A client connection that writes exact bytes and parses what comes back, response by response. */
export class RawClient {
  readonly socket: net.Socket;
  /** Every byte received (latin1). */
  received = '';
  readonly responses: Message[] = [];
  /** Bytes after a 101 response. */
  tunnel = '';
  /** A response that broke HTTP/1.1 framing. */
  wireError: string | null = null;
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private readonly closedPromise: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      if (this.upgraded) this.tunnel += chunk.toString('latin1');
      else {
        this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
        this.parse(false);
      }
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        if (!this.upgraded) this.parse(true);
        this.wake();
        resolve();
      });
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Writes exact bytes (a string is taken byte for byte, latin1). */
  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The `i`th response (0-based, interim 1xx responses included), waiting for it with a deadline. */
  async response(i: number): Promise<Message> {
    await this.until(`response #${i + 1}`, () => this.responses.length > i || this.closed || this.wireError !== null);
    if (this.responses.length <= i) throw new Error(`no response #${i + 1}: ${this.wireError ?? 'connection closed'}; received ${JSON.stringify(this.received)}`);
    return this.responses[i];
  }

  /** Waits for `text` to have arrived through the tunnel after a 101. */
  async tunnelText(text: string): Promise<void> {
    await this.until(`tunnel bytes ${JSON.stringify(text)}`, () => this.tunnel.includes(text) || this.closed);
    assert.ok(this.tunnel.includes(text), `tunnel closed before ${JSON.stringify(text)}; got ${JSON.stringify(this.tunnel)}`);
  }

  /** Waits for the proxy to close the connection (fails at the deadline). */
  waitClosed(): Promise<void> {
    return deadline('the proxy to close the connection', this.closedPromise, () => `received ${JSON.stringify(this.received)}`);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(what: string, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    let wake: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      wake = () => { if (done()) resolve(); };
      this.waiters.add(wake);
    });
    return deadline(what, reached, () => `received ${JSON.stringify(this.received)}`).finally(() => this.waiters.delete(wake));
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private parse(ended: boolean): void {
    let offset = 0;
    while (this.wireError === null && offset < this.buf.length) {
      try {
        const parsed = parseMessage(this.buf, offset, 'response', ended);
        if (parsed === null) break;
        offset = parsed.end;
        this.responses.push(parsed.message);
        if (parsed.message.status === 101) {
          this.upgraded = true;
          this.tunnel = this.buf.toString('latin1', offset);
          offset = this.buf.length;
        }
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        this.wireError = err.message;
      }
    }
    this.buf = this.buf.subarray(offset);
  }
}

export type Proxy = { harness: Harness; upstream: RawUpstream; port: number; close(): Promise<void> };

/** A proxy whose every route leads to a fresh raw upstream; `hcm` adds connection manager fields. */
export async function startProxy(hcm: Record<string, unknown> = {}): Promise<Proxy> {
  const upstream = new RawUpstream();
  await upstream.listen();
  const harness = new Harness();
  await harness.apply({
    clusters: [staticCluster('raw', [upstream.port])],
    listeners: [httpListener('http1', {
      routeConfig: routeConfig('routes', [
        virtualHost('nowhere', ['nowhere.test'], []),
        virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('raw'))]),
      ]),
      hcm,
    })],
  });
  return {
    harness,
    upstream,
    port: harness.port('http1'),
    close: async () => {
      await harness.close();
      await upstream.close();
    },
  };
}

/**
 * Sends `bytes` on a new connection and returns the client once the first response arrived (or the
 * connection closed).
 */
export async function exchange(port: number, bytes: string | Buffer): Promise<RawClient> {
  const client = await RawClient.connect(port);
  await client.write(bytes);
  await client.response(0).catch(() => {});
  return client;
}

/**
 * A request the proxy must refuse: the client gets `status` and the connection closes, and the
 * upstream received nothing but (at most) one well-formed request for `path`; no request or body the
 * client did not frame ever reaches it.
 */
export async function assertRefused(proxy: Proxy, bytes: string | Buffer, status: number, path: string): Promise<void> {
  const mark = proxy.upstream.mark();
  const client = await exchange(proxy.port, bytes);
  try {
    const first = await client.response(0);
    assert.equal(first.status, status, `status line ${JSON.stringify(first.startLine)}`);
    await client.waitClosed();
    assert.equal(client.responses.length, 1, `one response only; received ${JSON.stringify(client.received)}`);
  } finally {
    client.destroy();
  }
  // A request on another connection, answered: whatever the refused bytes made the proxy send upstream
  // was sent before it, so it has reached the upstream by now.
  const barrier = await exchange(proxy.port, `GET ${barrierPath} HTTP/1.1\r\nhost: a\r\n\r\n`);
  try {
    await barrier.response(0);
  } finally {
    barrier.destroy();
  }
  assertUpstreamNotSmuggled(proxy.upstream, mark, path);
}

/** The target of the request assertRefused sends after the refused one. */
const barrierPath = '/barrier-after-refusal';

/** Since `mark`, the upstream saw no malformed bytes and at most one request, for `path`. */
export function assertUpstreamNotSmuggled(upstream: RawUpstream, mark: UpstreamMark, path: string): void {
  const seen = upstream.since(mark).filter((r) => r.target !== barrierPath);
  assert.deepEqual(upstream.malformed.slice(mark.malformed), [], 'the upstream received malformed bytes');
  assert.ok(seen.length <= 1, `the upstream received ${seen.length} requests: ${JSON.stringify(seen.map((r) => r.raw.toString('latin1')))}`);
  for (const request of seen) assert.equal(request.target, path, `the upstream received a request for ${request.target}`);
  for (const bytes of upstream.partial.slice(mark.partial)) {
    assert.ok(bytes.startsWith(`${bytes.slice(0, bytes.indexOf(' '))} ${path} `), `a partial request reached the upstream: ${JSON.stringify(bytes)}`);
  }
}
