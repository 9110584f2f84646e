// What an analyzer sees and how it reports. The input is plain data: the Istio resources (stored,
// plus any given with `weft analyze -f`) and the registry's view of the mesh built from them
// (services and their endpoints). An analyzer reads it through an AnalysisContext, which indexes
// the resources once and resolves host names as Istio does, and reports findings into it.
import {
  fqdn, hostsOverlap, isKind, resourceKey,
  type DestinationRule, type Gateway, type IstioResource, type ServiceEntry, type VirtualService,
} from '../../api/index.ts';
import type { MeshSnapshot } from '../registry/model.ts';
import { documentationUrl, formatMessage, type Level, type MessageParameter, type MessageType } from './messages.ts';

export interface AnalysisInput {
  /** Every Istio resource to analyze, valid (as the store holds them). */
  readonly resources: readonly IstioResource[];
  /** The registry's view of the mesh built from `resources` and the registered proxies. */
  readonly mesh: MeshSnapshot;
  /** Where a resource came from when not from the store (`Kind/ns/name` → file name). */
  readonly sources?: ReadonlyMap<string, string>;
  /** Validation errors of resources given for analysis that are therefore not in `resources`. */
  readonly schemaErrors?: readonly SchemaError[];
}

/** A validation error about one identifiable resource (see ApiError in src/api/errors.ts). */
export interface SchemaError {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly path: string;
  readonly message: string;
}

/** One problem found, about one resource. */
export interface Finding {
  readonly code: string;
  /** The message's name, e.g. ReferencedResourceNotFound. */
  readonly name: string;
  readonly level: Level;
  readonly kind: string;
  readonly namespace: string;
  readonly resourceName: string;
  /** `Kind namespace/name`, as istioctl prints it. */
  readonly origin: string;
  /** The file the resource came from, when it was given with the request. */
  readonly reference?: string;
  readonly message: string;
  readonly documentationUrl?: string;
}

export interface Analyzer {
  /** `<area>.<Name>`, as Istio names its analyzers. */
  readonly name: string;
  readonly description: string;
  analyze(ctx: AnalysisContext): void;
}

type Resource = Pick<IstioResource, 'kind' | 'metadata'>;

/** A ServiceEntry host as seen from other namespaces: its FQDN and the namespaces it is exported to. */
interface ExportedHost {
  readonly host: string;
  /** `*` for every namespace, else namespace names. */
  readonly scopes: ReadonlySet<string>;
  readonly serviceEntry: ServiceEntry;
}

export class AnalysisContext {
  readonly mesh: MeshSnapshot;
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly serviceEntries: readonly ServiceEntry[];
  readonly gateways: readonly Gateway[];
  readonly findings: Finding[] = [];
  readonly schemaErrors: readonly SchemaError[];
  private readonly sources: ReadonlyMap<string, string>;
  private readonly exportedHosts: readonly ExportedHost[];
  private readonly byKey: ReadonlyMap<string, IstioResource>;

  constructor(input: AnalysisInput) {
    this.mesh = input.mesh;
    this.sources = input.sources ?? new Map();
    this.schemaErrors = input.schemaErrors ?? [];
    const all = input.resources;
    this.virtualServices = all.filter((r): r is VirtualService => isKind(r, 'VirtualService'));
    this.destinationRules = all.filter((r): r is DestinationRule => isKind(r, 'DestinationRule'));
    this.serviceEntries = all.filter((r): r is ServiceEntry => isKind(r, 'ServiceEntry'));
    this.gateways = all.filter((r): r is Gateway => isKind(r, 'Gateway'));
    this.byKey = new Map(all.map((r) => [resourceKey(r), r]));
    this.exportedHosts = this.serviceEntries.flatMap((se) => {
      const scopes = exportScopes(se.spec.exportTo, se.metadata.namespace);
      return se.spec.hosts.map((h) => ({ host: this.fqdn(h, se.metadata.namespace), scopes, serviceEntry: se }));
    });
  }

  /** The resource with this kind, namespace and name, if analyzed. */
  get<T = unknown>(kind: string, namespace: string, name: string): IstioResource<T> | undefined {
    return this.byKey.get(`${kind}/${namespace}/${name}`) as IstioResource<T> | undefined;
  }

  /** A host as Istio reads it in a resource of `namespace`: short names are expanded. */
  fqdn(host: string, namespace: string): string {
    return fqdn(host, namespace, this.mesh.config.domainSuffix);
  }

  /**
   * The ServiceEntry that defines `host` for a rule in `namespace` exported to `exportTo`, as
   * Istio's analyzers look it up (GetDestinationHost): an entry exported to every namespace, or to
   * one the rule is visible in; then wildcard entries exported to all or to the rule's namespace.
   */
  findServiceEntry(host: string, namespace: string, exportTo: readonly string[] | undefined): ServiceEntry | undefined {
    const name = this.fqdn(host, namespace);
    const visibleIn = exportTo?.length ? exportTo.map((e) => (e === '.' ? namespace : e)) : [namespace];
    const exact = this.exportedHosts.find((e) => e.host === name && (e.scopes.has('*') || visibleIn.some((ns) => e.scopes.has(ns))));
    if (exact) return exact.serviceEntry;
    const bare = name.startsWith('*') ? name.slice(1) : name;
    const wildcard = this.exportedHosts.find((e) => e.host.startsWith('*') && (e.scopes.has('*') || e.scopes.has(namespace))
      && bare.endsWith(e.host.slice(1)));
    return wildcard?.serviceEntry;
  }

  /** Whether some ServiceEntry host visible from `namespace` shares a name with the wildcard `pattern`. */
  wildcardMatchesAnyService(pattern: string, namespace: string): boolean {
    return this.exportedHosts.some((e) => (e.scopes.has('*') || e.scopes.has(namespace)) && hostsOverlap(pattern, e.host));
  }

  report(resource: Resource, type: MessageType, ...params: MessageParameter[]): void {
    const { kind, metadata: { namespace, name } } = resource;
    const reference = this.sources.get(`${kind}/${namespace}/${name}`);
    const url = documentationUrl(type);
    this.findings.push({
      code: type.code, name: type.name, level: type.level, kind, namespace, resourceName: name,
      origin: `${kind} ${namespace}/${name}`,
      ...(reference !== undefined ? { reference } : {}),
      message: formatMessage(type.template, params),
      ...(url !== undefined ? { documentationUrl: url } : {}),
    });
  }
}

/** The namespaces a resource is exported to: `*` when exportTo is absent (Istio's default). */
export function exportScopes(exportTo: readonly string[] | undefined, namespace: string): ReadonlySet<string> {
  if (!exportTo?.length) return new Set(['*']);
  return new Set(exportTo.map((e) => (e === '.' ? namespace : e)));
}
