// A small in-process ADS server for proxy tests: records every request and lets the test send
// responses by hand, so ACK/NACK behaviour can be checked message by message.
import * as grpc from '@grpc/grpc-js';
import { loadEnvoyProtos } from '../../../src/xds/protos.ts';

export interface Req { version_info?: string; node?: any; resource_names?: string[]; type_url: string; response_nonce?: string; error_detail?: { message?: string } }

export class FakeAds {
  readonly server = new grpc.Server();
  readonly requests: Req[] = [];
  streams: grpc.ServerDuplexStream<Req, unknown>[] = [];
  /** The metadata each stream was opened with (e.g. an authorization header). */
  readonly metadata: grpc.Metadata[] = [];
  port = 0;
  private nonce = 0;

  async start(port = 0, credentials = grpc.ServerCredentials.createInsecure()): Promise<void> {
    const { grpcObject } = loadEnvoyProtos();
    const ads = (grpcObject.envoy as any).service.discovery.v3.AggregatedDiscoveryService;
    this.server.addService(ads.service, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<Req, unknown>) => {
        this.streams.push(call);
        this.metadata.push(call.metadata);
        call.on('data', (r: Req) => this.requests.push(r));
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, credentials, (e, p) => (e ? reject(e) : resolve(p))));
  }

  /** Sends a response on the newest stream; returns its nonce. */
  respond(typeUrl: string, version: string, resources: Record<string, unknown>[]): string {
    const nonce = `n${++this.nonce}`;
    this.streams[this.streams.length - 1].write({ version_info: version, type_url: typeUrl, nonce, resources: resources.map((r) => ({ '@type': typeUrl, ...r })) });
    return nonce;
  }

  async waitForRequest(pred: (r: Req) => boolean, timeoutMs = 5000): Promise<Req> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.requests.find(pred);
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no matching request; saw ${JSON.stringify(this.requests.map((x) => [x.type_url.split('.').pop(), x.response_nonce, x.resource_names, x.error_detail?.message]))}`);
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
  }
}
