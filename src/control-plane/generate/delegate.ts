// Delegate VirtualServices: a root rule with `delegate: {name, namespace}` is replaced by the delegate's
// http rules, each merged with the root rule as Istio merges them: match conditions are combined (a
// delegate match must narrow one of the root's, else that delegate rule is dropped as conflicting), and
// the delegate inherits the root's rewrite, timeout, retries, fault, mirror(s), CORS and headers where it
// sets none. A delegate must be visible to the root's namespace (exportTo) and may not delegate again.
import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService } from '../../api/index.ts';
import { visibleTo } from './visibility.ts';

export function expandDelegates(root: VirtualService, all: readonly VirtualService[], warnings: string[]): HTTPRoute[] {
  const out: HTTPRoute[] = [];
  (root.spec.http ?? []).forEach((rule, i) => {
    if (rule.delegate === undefined) {
      out.push(rule);
      return;
    }
    const where = `VirtualService ${root.metadata.namespace}/${root.metadata.name}: spec.http[${i}].delegate`;
    const ns = rule.delegate.namespace ?? root.metadata.namespace;
    const delegate = all.find((vs) => vs.metadata.name === rule.delegate!.name && vs.metadata.namespace === ns);
    if (!delegate || !visibleTo(delegate.spec.exportTo, ns, root.metadata.namespace)) {
      warnings.push(`${where}: VirtualService ${ns}/${rule.delegate.name} is not found or not exported to namespace ${root.metadata.namespace}; the rule is skipped`);
      return;
    }
    if ((delegate.spec.hosts ?? []).length > 0) {
      warnings.push(`${where}: VirtualService ${ns}/${rule.delegate.name} sets hosts, so it is not a delegate; the rule is skipped`);
      return;
    }
    (delegate.spec.http ?? []).forEach((leaf, j) => {
      if (leaf.delegate !== undefined) {
        warnings.push(`VirtualService ${ns}/${delegate.metadata.name}: spec.http[${j}].delegate: a delegate cannot delegate again; the rule is skipped`);
        return;
      }
      const merged = mergeRoute(rule, leaf);
      if (merged) out.push(merged);
      else warnings.push(`VirtualService ${ns}/${delegate.metadata.name}: spec.http[${j}].match conflicts with ${where.replace(/\.delegate$/, '')}.match; the rule is skipped`);
    });
  });
  return out;
}

function mergeRoute(root: HTTPRoute, leaf: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match ?? [], leaf.match ?? []);
  if (match === undefined) return undefined;
  const name = leaf.name === undefined ? root.name : root.name !== undefined ? `${root.name}-${leaf.name}` : leaf.name;
  const merged: HTTPRoute = { ...leaf };
  if (match.length > 0) merged.match = match;
  else delete merged.match;
  if (name !== undefined) merged.name = name;
  for (const field of ['rewrite', 'directResponse', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'corsPolicy', 'mirrors', 'headers'] as const) {
    if (merged[field] === undefined && root[field] !== undefined) (merged as Record<string, unknown>)[field] = root[field];
  }
  return merged;
}

/** undefined: conflict. */
function mergeMatches(root: HTTPMatchRequest[], leaf: HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return leaf;
  if (leaf.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const l of leaf) {
    const compatible = root.filter((r) => !conflicts(r, l));
    if (compatible.length === 0) return undefined;
    for (const r of compatible) out.push(mergeMatch(r, l));
  }
  return out;
}

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...leaf };
  if (leaf.name === undefined && root.name !== undefined) out.name = root.name;
  else if (leaf.name !== undefined && root.name !== undefined) out.name = `${root.name}-${leaf.name}`;
  for (const field of ['uri', 'scheme', 'method', 'authority', 'port', 'sourceNamespace', 'gateways'] as const) {
    if (out[field] === undefined && root[field] !== undefined) (out as Record<string, unknown>)[field] = root[field];
  }
  for (const field of ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels'] as const) {
    if (root[field] !== undefined || leaf[field] !== undefined) (out as Record<string, unknown>)[field] = { ...root[field], ...leaf[field] };
  }
  return out;
}

function conflicts(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const field of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflict(root[field], leaf[field])) return true;
  }
  for (const field of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [key, value] of Object.entries(leaf[field] ?? {})) {
      if (stringMatchConflict(root[field]?.[key], value)) return true;
    }
  }
  if ((root.ignoreUriCase ?? false) !== (leaf.ignoreUriCase ?? false)) return true;
  if (root.port !== undefined && leaf.port !== undefined && root.port !== leaf.port) return true;
  if (root.sourceNamespace !== undefined && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [key, value] of Object.entries(leaf.sourceLabels ?? {})) {
    if (root.sourceLabels?.[key] !== undefined && root.sourceLabels[key] !== value) return true;
  }
  if (root.gateways && root.gateways.length > 0 && leaf.gateways && leaf.gateways.length > 0) {
    if (!leaf.gateways.every((g) => root.gateways!.includes(g))) return true;
  }
  return false;
}

/** Whether a delegate's string match cannot narrow the root's (Istio's rules: regex only with nothing else; exact must equal; prefix must extend). */
function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  if (root.regex !== undefined) return leaf.regex !== undefined || leaf.prefix !== undefined || leaf.exact !== undefined;
  if (leaf.regex !== undefined) return true;
  if (root.exact !== undefined) return leaf.exact !== root.exact;
  if (root.prefix !== undefined) {
    if (leaf.prefix !== undefined) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact !== undefined) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}
