// A gRPC service for data plane tests, with @grpc/grpc-js on both ends and JSON messages (no .proto:
// the service definition carries its own serializers). Methods cover the four kinds of call and the
// ways a call can end: with an error status and trailing metadata (trailers-only, or after messages),
// failing the first attempt of a call as UNAVAILABLE (for retries), or never answering (deadlines).
import * as grpc from '@grpc/grpc-js';

export type Message = { text?: string; count?: number; size?: number; seq?: number };

const serialize = (value: Message): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): Message => JSON.parse(bytes.toString()) as Message;

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Message, Message> {
  return {
    path: `/test.Echo/${name}`, requestStream, responseStream,
    requestSerialize: serialize, requestDeserialize: deserialize, responseSerialize: serialize, responseDeserialize: deserialize,
  };
}

export const echoService = {
  unary: method('Unary', false, false),
  fail: method('Fail', false, false),
  flaky: method('Flaky', false, false),
  slow: method('Slow', false, false),
  clientStream: method('ClientStream', true, false),
  serverStream: method('ServerStream', false, true),
  failAfterMessages: method('FailAfterMessages', false, true),
  bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export type EchoClient = grpc.Client & {
  unary(req: Message, md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientUnaryCall;
  fail(req: Message, md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientUnaryCall;
  flaky(req: Message, md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientUnaryCall;
  slow(req: Message, md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientUnaryCall;
  clientStream(md: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Message>): grpc.ClientWritableStream<Message>;
  serverStream(req: Message, md: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<Message>;
  failAfterMessages(req: Message, md: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<Message>;
  bidi(md: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<Message, Message>;
};

const EchoClientConstructor = grpc.makeGenericClientConstructor(echoService, 'Echo');

export function echoClient(port: number): EchoClient {
  return new EchoClientConstructor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
}

export type EchoServer = {
  port: number;
  /** Attempts seen per x-call-id (Flaky). */
  attempts: Map<string, number>;
  /** Slow calls the server saw cancelled. */
  cancelled: number;
  /** Metadata of the last Unary call, as the server received it. */
  lastMetadata: grpc.Metadata | null;
  close(): Promise<void>;
};

const filler = (size: number): string => 'x'.repeat(size);

export async function startEchoServer(): Promise<EchoServer> {
  const server = new grpc.Server();
  const state: EchoServer = { port: 0, attempts: new Map(), cancelled: 0, lastMetadata: null, close: async () => { server.forceShutdown(); } };
  server.addService(echoService, {
    unary: (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
      state.lastMetadata = call.metadata;
      const trailing = new grpc.Metadata();
      trailing.set('x-trailer', 'unary-done');
      callback(null, { text: `echo: ${call.request.text ?? ''}` }, trailing);
    },
    fail: (_call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-reason', 'gone');
      callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata });
    },
    flaky: (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
      const id = String(call.metadata.get('x-call-id')[0] ?? '');
      const attempt = (state.attempts.get(id) ?? 0) + 1;
      state.attempts.set(id, attempt);
      // Failing before any message or metadata: a trailers-only response.
      if (attempt === 1) callback({ code: grpc.status.UNAVAILABLE, details: 'try again' });
      else callback(null, { text: `attempt ${attempt}: ${call.request.text ?? ''}` });
    },
    slow: (call: grpc.ServerUnaryCall<Message, Message>) => {
      call.on('cancelled', () => { state.cancelled++; });
    },
    clientStream: (call: grpc.ServerReadableStream<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
      const texts: string[] = [];
      call.on('data', (m: Message) => texts.push(m.text ?? ''));
      call.on('end', () => callback(null, { text: texts.join(','), count: texts.length }));
    },
    serverStream: (call: grpc.ServerWritableStream<Message, Message>) => {
      const count = call.request.count ?? 0;
      const pad = filler(call.request.size ?? 0);
      let seq = 0;
      // Honours the stream's backpressure: writes wait for 'drain'.
      const writeMore = (): void => {
        while (seq < count) {
          if (!call.write({ seq: seq++, text: pad })) {
            call.once('drain', writeMore);
            return;
          }
        }
        call.end();
      };
      writeMore();
    },
    failAfterMessages: (call: grpc.ServerWritableStream<Message, Message>) => {
      call.write({ seq: 0 });
      call.write({ seq: 1 });
      const metadata = new grpc.Metadata();
      metadata.set('x-reason', 'quota');
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'out of quota: 100%', metadata });
    },
    bidi: (call: grpc.ServerDuplexStream<Message, Message>) => {
      call.on('data', (m: Message) => call.write({ seq: m.seq, text: m.text }));
      call.on('end', () => call.end());
    },
  });
  state.port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
  return state;
}

/** A unary call as a promise of its outcome: the reply, or the error status; trailing metadata either way. */
export function unary(call: (cb: grpc.requestCallback<Message>) => grpc.ClientUnaryCall):
  Promise<{ reply: Message | null; error: grpc.ServiceError | null; trailers: grpc.Metadata | null }> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | null = null;
    let outcome: { reply: Message | null; error: grpc.ServiceError | null } | null = null;
    const settle = (): void => { if (outcome !== null && trailers !== null) resolve({ ...outcome, trailers }); };
    const c = call((error, reply) => {
      outcome = { reply: reply ?? null, error };
      settle();
    });
    c.on('status', (status: grpc.StatusObject) => {
      trailers = status.metadata;
      settle();
    });
  });
}
