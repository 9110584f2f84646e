// PeerAuthentication (security.istio.io): whether the selected workloads accept plain text, mutual
// TLS, or both, for the whole workload and per port. A policy without a selector applies to its
// namespace (or, in the root namespace, to the mesh).

import { enumOf, map, object, report, type Context, type Problem, type Schema } from '../schema.ts';
import { workloadSelector } from './common.ts';
import type { MutualTlsMode, PeerAuthenticationMutualTls, PeerAuthenticationSpec } from './security-types.ts';

export const MUTUAL_TLS_MODES: readonly MutualTlsMode[] = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

const mutualTls: Schema<PeerAuthenticationMutualTls> = object<PeerAuthenticationMutualTls>({
  mode: enumOf(MUTUAL_TLS_MODES),
});

/** A portLevelMtls key: a workload port number, written as a YAML key (so a string). */
function portKeyProblem(key: string): Problem {
  if (!/^\d+$/.test(key)) return `port "${key}" must be a port number 1..65535`;
  const port = Number(key);
  if (port < 1 || port > 65535) return { code: 'WEFT_E_OUT_OF_RANGE', message: `port ${key} must be in range 1..65535` };
  return undefined;
}

function checkSpec(pa: PeerAuthenticationSpec, path: string, ctx: Context): void {
  if (pa.portLevelMtls === undefined) return;
  if (Object.keys(pa.portLevelMtls).length === 0) {
    report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.portLevelMtls`, 'must have at least one port (omit the field instead)');
  }
  // Port numbers are the workload's own ports, so a namespace- or mesh-wide policy cannot name them.
  if (Object.keys(pa.selector?.matchLabels ?? {}).length === 0) {
    report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.selector`,
      'portLevelMtls requires a selector with matchLabels (a namespace-wide or mesh-wide policy cannot set port-level mTLS)');
  }
}

export const peerAuthenticationSpec: Schema<PeerAuthenticationSpec> = object<PeerAuthenticationSpec>({
  selector: workloadSelector,
  mtls: mutualTls,
  portLevelMtls: map(mutualTls, { key: portKeyProblem }),
}, { check: checkSpec });
