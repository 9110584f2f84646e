// WorkloadEntry (networking.istio.io): a workload outside Kubernetes (a VM, a process), with its
// address, ports and labels. The same shape is a ServiceEntry endpoint.

import { integer, map, object, report, string, UINT32_MAX, type Context, type Problem, type Schema } from '../schema.ts';
import { fqdnProblem, isIP, isIstioDnsLabel } from '../names.ts';
import { labels, portNumber } from './common.ts';

export interface WorkloadEntrySpec {
  address?: string;
  /** Port name → port number on this workload (overrides the service's port of that name). */
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

export const UNIX_PREFIX = 'unix://';

function addressProblem(a: string): Problem {
  if (a.length > 256) return 'must be at most 256 characters';
  if (a.startsWith(UNIX_PREFIX)) {
    const socket = a.slice(UNIX_PREFIX.length);
    if (!socket.startsWith('/') && !socket.startsWith('@')) return 'a unix domain socket must be an absolute path or an abstract socket (@name)';
    if (socket.endsWith('/')) return 'a unix domain socket may not be a directory';
    return undefined;
  }
  if (isIP(a)) return undefined;
  return fqdnProblem(a) === undefined ? undefined : `"${a}" is not a valid IP address, host name or unix:// socket`;
}

const maxLength = (n: number) => string({ check: (s) => (s.length > n ? `must be at most ${n} characters` : undefined) });

const portName = (name: string): Problem => (isIstioDnsLabel(name) ? undefined : `port name "${name}" is not a valid DNS label`);

function checkWorkloadEntry(we: WorkloadEntrySpec, path: string, ctx: Context): void {
  if ((we.address ?? '') === '' && (we.network ?? '') === '') {
    report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.address`, 'is required (unless network is set)');
  }
  if (we.address?.startsWith(UNIX_PREFIX) && we.ports !== undefined && Object.keys(we.ports).length > 0) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.ports`, 'a unix domain socket address cannot have ports');
  }
}

export const workloadEntrySpec: Schema<WorkloadEntrySpec> = object<WorkloadEntrySpec>({
  address: string({ check: addressProblem }),
  ports: map(portNumber(), { key: portName, maxEntries: 128 }),
  labels: labels(),
  network: maxLength(2048),
  locality: maxLength(2048),
  weight: integer({ min: 0, max: UINT32_MAX }),
  serviceAccount: maxLength(253),
}, { check: checkWorkloadEntry });
