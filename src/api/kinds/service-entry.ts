// ServiceEntry (networking.istio.io): adds a service to the mesh's registry: its hosts, ports, how
// its endpoints are found (resolution), and the endpoints themselves or a selector for them.

import { array, enumOf, object, report, string, type Context, type Schema } from '../schema.ts';
import { fqdnProblem, ipOrCidrProblem, isIP, isIstioDnsLabel, wildcardHostProblem } from '../names.ts';
import { exportTo, portNumber, reportDuplicates, serviceEntryWorkloadSelector, type ServiceEntryWorkloadSelector } from './common.ts';
import { isHttpProtocol, isTlsProtocol, protocolProblem } from './protocol.ts';
import { UNIX_PREFIX, workloadEntrySpec, type WorkloadEntrySpec } from './workload-entry.ts';

export const LOCATIONS = ['MESH_EXTERNAL', 'MESH_INTERNAL'] as const;
export const RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;

export interface ServicePort {
  number: number;
  protocol?: string;
  name: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePort[];
  location?: (typeof LOCATIONS)[number];
  /** Defaults to NONE. */
  resolution?: (typeof RESOLUTIONS)[number];
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: ServiceEntryWorkloadSelector;
  exportTo?: string[];
  subjectAltNames?: string[];
}

export const servicePort: Schema<ServicePort> = object<ServicePort>({
  number: portNumber(),
  protocol: string({ check: protocolProblem }),
  name: string({ check: (n) => (isIstioDnsLabel(n) ? undefined : `port name "${n}" is not a valid DNS label`) }),
  targetPort: portNumber(),
}, { required: ['number', 'name'] });

function checkEndpoints(se: ServiceEntrySpec, path: string, ctx: Context): void {
  const resolution = se.resolution ?? 'NONE';
  const endpoints = se.endpoints ?? [];
  if (resolution === 'NONE' && se.endpoints !== undefined) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.endpoints`, 'endpoints cannot be set when resolution is NONE');
  }
  // Istio accepts a STATIC entry with neither endpoints nor a selector (endpoints may come from
  // WorkloadEntries later); only both at once is an error (the oneOf rule below).
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.endpoints`, 'resolution DNS_ROUND_ROBIN allows at most one endpoint');
  }
  const portNames = new Set((se.ports ?? []).map((p) => p.name));
  endpoints.forEach((e, i) => {
    const p = `${path}.endpoints[${i}]`;
    const address = e.address ?? '';
    if (resolution === 'STATIC' && address !== '' && !isIP(address) && !address.startsWith(UNIX_PREFIX)) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${p}.address`, 'must be an IP address or a unix:// socket when resolution is STATIC');
    }
    for (const name of Object.keys(e.ports ?? {})) {
      if (!portNames.has(name)) report(ctx, 'WEFT_E_INVALID_VALUE', `${p}.ports.${name}`, `port "${name}" is not one of the service entry's ports`);
    }
  });
}

function checkSpec(se: ServiceEntrySpec, path: string, ctx: Context): void {
  const resolution = se.resolution ?? 'NONE';
  reportDuplicates(ctx, `${path}.ports`, (se.ports ?? []).map((p) => p.name), 'port name', '.name');
  reportDuplicates(ctx, `${path}.ports`, (se.ports ?? []).map((p) => p.number), 'port number', '.number');
  se.addresses?.forEach((a, i) => {
    if (a.includes('/') && resolution !== 'NONE' && resolution !== 'STATIC') {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.addresses[${i}]`, 'CIDR addresses are allowed only when resolution is NONE or STATIC');
    }
  });
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !se.endpoints?.length) {
    se.hosts.forEach((h, i) => {
      if (fqdnProblem(h) !== undefined) {
        report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.hosts[${i}]`, `must be a fully qualified host name (no wildcard) when resolution is ${resolution} and there are no endpoints`);
      }
    });
  }
  if (resolution !== 'NONE' && se.hosts.length > 1) {
    const i = (se.ports ?? []).findIndex((p) => !isHttpProtocol(p.protocol) && !isTlsProtocol(p.protocol));
    if (i >= 0) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.ports[${i}].protocol`,
        'a service entry with several hosts needs HTTP or TLS ports (plain TCP cannot tell the hosts apart) unless resolution is NONE');
    }
  }
  checkEndpoints(se, path, ctx);
}

export const serviceEntrySpec: Schema<ServiceEntrySpec> = object<ServiceEntrySpec>({
  hosts: array(string({ check: (h) => (h === '*' ? 'the wildcard host "*" is not allowed' : wildcardHostProblem(h)) }), { minItems: 1, maxItems: 256 }),
  addresses: array(string({ check: ipOrCidrProblem }), { maxItems: 256 }),
  ports: array(servicePort, { maxItems: 256 }),
  location: enumOf(LOCATIONS),
  resolution: enumOf(RESOLUTIONS),
  endpoints: array(workloadEntrySpec, { maxItems: 4096 }),
  workloadSelector: serviceEntryWorkloadSelector,
  exportTo: exportTo({ allowNone: true }),
  subjectAltNames: array(string()),
}, {
  required: ['hosts'],
  oneOf: [['endpoints', 'workloadSelector']],
  check: checkSpec,
});
