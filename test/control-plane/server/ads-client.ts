// A bare ADS client for protocol tests: writes DiscoveryRequests and queues the responses.
import * as grpc from '@grpc/grpc-js';
import { adsServiceClient } from '../../../src/xds/protos.ts';

export interface Response { version_info: string; resources: any[]; type_url: string; nonce: string }

export class RawAdsClient {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<any, Response>;
  private readonly queue: Response[] = [];
  /** Last nonce and version received per type URL. */
  readonly last = new Map<string, Response>();
  private waiters: ((r: Response) => void)[] = [];

  constructor(port: number) {
    const Ads = adsServiceClient();
    this.client = new Ads(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    this.call = (this.client as any).StreamAggregatedResources();
    this.call.on('data', (r: Response) => {
      this.last.set(r.type_url, r);
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    this.call.on('error', () => {});
  }

  send(req: Record<string, unknown>): void {
    this.call.write(req);
  }

  next(timeoutMs = 3000): Promise<Response> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const waiter = (x: Response) => { clearTimeout(timer); resolve(x); };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('no response from the ADS server'));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves with a response if one arrives within ms, else undefined. */
  async maybeNext(ms: number): Promise<Response | undefined> {
    try { return await this.next(ms); } catch { return undefined; }
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
