// Fields every provider that names a service shares: the service (host or `namespace/host`) and its
// port, checked as Istio checks them.

import { report, type Problem, type Schema } from './schema.ts';
import { fqdnProblem, isDns1123Label, isIP, wildcardHostProblem } from './names.ts';

/** A provider's service: a host name or IP address, or `namespace/host`. */
export function providerServiceProblem(service: string): Problem {
  if (service === '') return 'must not be empty';
  const slash = service.indexOf('/');
  if (slash < 0) {
    return isIP(service) || fqdnProblem(service) === undefined ? undefined : `"${service}" is not a valid host name or IP address`;
  }
  const ns = service.slice(0, slash);
  const host = service.slice(slash + 1);
  if (!(ns === '.' || ns === '*' || isDns1123Label(ns))) return `"${service}": "${ns}" is not a valid namespace`;
  if (host !== '*' && !host.includes('.')) return `"${service}": the host after the namespace must be a fully qualified name`;
  return wildcardHostProblem(host);
}

/** A port 1..65535; protobuf's JSON form also allows it quoted (`port: "8000"`, as Istio's docs write it). */
export const providerPort: Schema<number> = {
  expected: 'a port number 1..65535', plural: 'port numbers',
  validate(value, path, ctx) {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) return report(ctx, 'WEFT_E_WRONG_TYPE', path, `must be ${this.expected}`);
    if (n < 1 || n > 65535) report(ctx, 'WEFT_E_OUT_OF_RANGE', path, `must be ${this.expected}`);
  },
};

/** The port of a provider as a number, however it was written. */
export function portNumberOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}
