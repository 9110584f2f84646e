// Conditions of a VirtualService match that Istio evaluates per proxy when it generates config, not per
// request: the port, the `mesh` gateway, and the client's labels and namespace (sourceLabels,
// sourceNamespace). A match that does not apply to a proxy produces no route or filter chain for it.
import type { ProxyNode } from '../registry/model.ts';

export const meshScope: readonly string[] = ['mesh'];

/** A gateway reference as `namespace/name` (`mesh` stays `mesh`). */
export function qualifiedGateway(ref: string, vsNamespace: string): string {
  return ref === 'mesh' || ref.includes('/') ? ref : `${vsNamespace}/${ref}`;
}

export interface ScopedMatch {
  port?: number;
  gateways?: string[];
  sourceNamespace?: string;
  sourceLabels?: Record<string, string>;
}

/**
 * `scope`: where the config is for: `mesh` (a sidecar) or the gateways serving it, as `namespace/name`.
 * A match's gateways name `mesh`, `name` (in the VirtualService's namespace) or `namespace/name`.
 */
export function matchAppliesHere(m: ScopedMatch | undefined, proxy: ProxyNode, port: number, scope: readonly string[] = meshScope, vsNamespace = ''): boolean {
  if (!m) return true;
  if (m.port !== undefined && m.port !== port) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.some((g) => scope.includes(qualifiedGateway(g, vsNamespace)))) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== proxy.metadata.namespace) return false;
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (proxy.metadata.labels[k] !== v) return false;
  return true;
}
