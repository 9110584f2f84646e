// An upstream whose answer the test sets (`status`, or `mode: 'alternate'` for 500 / 200 in turn), that
// says who it is in an x-upstream header and a JSON body, and counts what it received.
import { startUpstream, type Upstream } from '../support/upstream.ts';

export type StatusUpstream = Upstream & { status: number; alternate: boolean };

export async function startStatusUpstream(name: string, status = 200): Promise<StatusUpstream> {
  let served = 0;
  const upstream = await startUpstream(name, (req, res) => {
    req.resume();
    const code = self.alternate ? (served++ % 2 === 0 ? 500 : 200) : self.status;
    const body = JSON.stringify({ upstream: name });
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
    res.end(body);
  });
  const self = Object.assign(upstream, { status, alternate: false });
  return self;
}
