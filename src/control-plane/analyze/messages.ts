// The messages `weft analyze` reports. Where Istio's analyzers have a message for the same problem
// (istioctl analyze, pkg/config/analysis/msg), it has Istio's code, name, level and wording, so a
// user can look it up in Istio's documentation; problems only Weft reports have WEFT codes.
// Templates use Go's verbs as Istio's do: %s and %d as written, %q quoted, %v a list as [a b].

export type Level = 'Error' | 'Warning' | 'Info';

export interface MessageType {
  readonly code: string;
  readonly name: string;
  readonly level: Level;
  readonly template: string;
}

const message = (code: string, name: string, level: Level, template: string): MessageType => ({ code, name, level, template });

export const ReferencedResourceNotFound = message('IST0101', 'ReferencedResourceNotFound', 'Error',
  'Referenced %s not found: %q');
export const SchemaValidationError = message('IST0106', 'SchemaValidationError', 'Error',
  'Schema validation error: %v');
export const ConflictingMeshGatewayVirtualServiceHosts = message('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', 'Error',
  'The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. '
  + 'This can be fixed by merging the conflicting VirtualServices into a single resource.');
export const VirtualServiceDestinationPortSelectorRequired = message('IST0112', 'VirtualServiceDestinationPortSelectorRequired', 'Error',
  'This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.');
export const VirtualServiceHostNotFoundInGateway = message('IST0132', 'VirtualServiceHostNotFoundInGateway', 'Warning',
  'one or more host %v defined in VirtualService %s not found in Gateway %s.');
// Istio says "pods"; a Weft workload is a WorkloadEntry, an inline endpoint or a registered sidecar.
export const DestinationRuleSubsetNotSelectPods = message('IST0173', 'DestinationRuleSubsetNotSelectPods', 'Error',
  'The Subset %s defined in the DestinationRule does not select any workloads. Which may lead to 503 UH (NoHealthyUpstream).');
export const UnknownDestinationRuleHost = message('IST0174', 'UnknownDestinationRuleHost', 'Warning',
  'The host %s defined in the DestinationRule does not match any services in the mesh.');

export const ConflictingDestinationRules = message('WEFT0001', 'ConflictingDestinationRules', 'Warning',
  'The DestinationRules %s in namespace %s define the same host %s. A client applies one DestinationRule per host, so the others are ignored; '
  + 'merge them into a single resource.');
export const DelegateHasHosts = message('WEFT0002', 'DelegateHasHosts', 'Error',
  'Referenced delegate VirtualService %q has hosts, so it is not a delegate (only a VirtualService without hosts can be delegated to).');
export const DelegateNotExported = message('WEFT0003', 'DelegateNotExported', 'Error',
  'Referenced delegate VirtualService %q is not exported to namespace %s (exportTo %v), so its routes are not used.');
export const DelegateWithSeveralRoots = message('WEFT0004', 'DelegateWithSeveralRoots', 'Info',
  'This delegate VirtualService is referenced by %d VirtualServices (%s); a change to it affects all of them.');
export const UnusedDelegate = message('WEFT0005', 'UnusedDelegate', 'Warning',
  'This VirtualService has no hosts, so it is a delegate, but no VirtualService delegates to it: its routes are not used.');

/** Every message type, for documentation and tests. */
export const MESSAGE_TYPES: readonly MessageType[] = [
  ReferencedResourceNotFound, SchemaValidationError, ConflictingMeshGatewayVirtualServiceHosts,
  VirtualServiceDestinationPortSelectorRequired, VirtualServiceHostNotFoundInGateway, DestinationRuleSubsetNotSelectPods,
  UnknownDestinationRuleHost, ConflictingDestinationRules, DelegateHasHosts, DelegateNotExported, DelegateWithSeveralRoots,
  UnusedDelegate,
];

export type MessageParameter = string | number | readonly (string | number)[];

/** Fills a template's %s, %d, %q and %v in order. */
export function formatMessage(template: string, params: readonly MessageParameter[]): string {
  let next = 0;
  return template.replace(/%[sdqv]/g, (verb) => {
    const p = params[next++];
    if (Array.isArray(p)) return `[${p.join(' ')}]`;
    return verb === '%q' ? JSON.stringify(String(p)) : String(p);
  });
}

/** Istio documents each of its codes at this address; WEFT codes are documented in docs/reference.md. */
export function documentationUrl(type: MessageType): string | undefined {
  return type.code.startsWith('IST') ? `https://istio.io/latest/docs/reference/config/analysis/${type.code.toLowerCase()}/` : undefined;
}
