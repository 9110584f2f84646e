// RouteConfiguration (RDS, or an HttpConnectionManager's inline route_config) → RouteTable.
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, integer, message, optionalMessage, repeated, requiredString, string,
  uintWrapper, type Message,
} from '../../upstream/envoy-config.ts';
import { compilePerFilterConfig, type PerFilterConfig } from './per-filter-config.ts';
import { compileHeaderMatcher } from './header-matcher.ts';
import { compileQueryParameterMatcher } from './query-parameter-matcher.ts';
import {
  HeaderMutations, compileMutationLevels, headerMutationFields, routeChain, type HeaderMutationLevel, type MutationLevels,
} from './header-mutation.ts';
import { compileRedirect, type Redirect } from './redirect.ts';
import { compileRegexRewrite } from './regex-rewrite.ts';
import { compileHashPolicy } from './hash-policy.ts';
import { compileMirrorPolicies } from './mirror-policy.ts';
import { compileRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { compileRegex } from './string-matcher.ts';
import type { SecretStore } from '../../tls/secret-store.ts';
import {
  DirectResponse, PathMatch, Route, RouteAction, RouteTable, VirtualHost, WeightedClusters, type WildcardBucket,
} from './route-table.ts';

/** What compiling a route table may ask of the rest of the data plane. */
export type RouteCompileContext = {
  /** Whether a cluster exists now (for validate_clusters). */
  clusterExists(name: string): boolean;
  /** The data plane's SDS secrets, for the TLS contexts of listeners' filter chains. */
  secrets?: SecretStore;
};

/** Envoy's default route timeout. */
export const defaultRouteTimeoutMs = 15_000;

const routeConfigFields = new Set([
  'name', 'virtual_hosts', 'validate_clusters', 'ignore_port_in_host_matching', 'most_specific_header_mutations_wins',
  // Only relevant to file bodies, which are not supported:
  'max_direct_response_body_size_bytes', 'typed_per_filter_config', ...headerMutationFields,
]);
const virtualHostFields = new Set(['name', 'domains', 'routes', 'metadata', 'retry_policy', 'typed_per_filter_config', ...headerMutationFields]);
// decorator only names tracing spans (no tracing yet); metadata is informational.
const routeFields = new Set([
  'name', 'match', 'route', 'direct_response', 'redirect', 'metadata', 'decorator', 'typed_per_filter_config', ...headerMutationFields,
]);
const matchFields = new Set(['prefix', 'path', 'safe_regex', 'case_sensitive', 'headers', 'query_parameters']);
// idle_timeout (the stream idle timeout of a route) is not supported: it would need a timer refreshed on
// every body chunk both ways.
// auto_host_rewrite is not supported: Envoy takes the chosen endpoint's hostname, which the data plane
// does not keep (LbEndpoint.endpoint.hostname is informational here).
const actionFields = new Set([
  'cluster', 'weighted_clusters', 'timeout', 'prefix_rewrite', 'regex_rewrite', 'host_rewrite_literal', 'cluster_not_found_response_code',
  'retry_policy', 'request_mirror_policies', 'hash_policy',
]);
const weightedFields = new Set(['clusters', 'total_weight']);
const clusterWeightFields = new Set(['name', 'weight', ...headerMutationFields]);
const directResponseFields = new Set(['status', 'body']);
const dataSourceFields = new Set(['inline_string', 'inline_bytes']);

const clusterNotFoundCodes: Record<string, number> = { SERVICE_UNAVAILABLE: 503, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500 };

/**
 * Compiles one RouteConfiguration. `inline` is true for an HttpConnectionManager's route_config, where
 * Envoy validates clusters by default (RDS: not by default).
 */
export function compileRouteConfiguration(resource: string, value: unknown, context: RouteCompileContext, inline: boolean): RouteTable {
  const root = new FieldPath(resource);
  const rc = message(root, value);
  checkFields(root, rc, routeConfigFields);
  const name = string(root.field('name'), rc.name) ?? '';
  const validateClusters = boolWrapper(root.field('validate_clusters'), rc.validate_clusters) ?? inline;
  const ignorePort = (rc.ignore_port_in_host_matching ?? false) === true;
  const mostSpecificWins = bool(root.field('most_specific_header_mutations_wins'), rc.most_specific_header_mutations_wins) ?? false;
  const rcMutations = compileMutationLevels(root, rc);

  const exact = new Map<string, VirtualHost>();
  const suffixes = new Map<number, Map<string, VirtualHost>>();
  const prefixes = new Map<number, Map<string, VirtualHost>>();
  let defaultHost: VirtualHost | null = null;
  const seenDomains = new Set<string>();
  const clusterNames = new Set<string>();
  const rcFilters = compilePerFilterConfig(root.field('typed_per_filter_config'), rc.typed_per_filter_config, null,
    `route configuration ${name || '(unnamed)'}`);

  repeated(root.field('virtual_hosts'), rc.virtual_hosts).forEach((v, i) => {
    const at = root.field('virtual_hosts').item(i);
    const vh = message(at, v);
    checkFields(at, vh, virtualHostFields);
    const vhName = requiredString(at.field('name'), vh.name);
    // Envoy: the virtual host's policy applies to routes without their own (not merged field by field).
    const vhRetry = vh.retry_policy === undefined || vh.retry_policy === null ? null : compileRetryPolicy(at.field('retry_policy'), vh.retry_policy);
    const vhFilters = compilePerFilterConfig(at.field('typed_per_filter_config'), vh.typed_per_filter_config, rcFilters, `virtual host ${vhName}`);
    const levels: LevelsAbove = { virtualHost: compileMutationLevels(at, vh), routeConfiguration: rcMutations, mostSpecificWins };
    const routes = repeated(at.field('routes'), vh.routes)
      .map((r, j) => compileRoute(at.field('routes').item(j), r, vhName, clusterNames, vhRetry, vhFilters, levels));
    const host = new VirtualHost(vhName, routes);
    const domains = repeated(at.field('domains'), vh.domains);
    if (domains.length === 0) at.field('domains').reject('must list at least one domain');
    domains.forEach((d, k) => {
      const dp = at.field('domains').item(k);
      const domain = requiredString(dp, d).toLowerCase();
      if (seenDomains.has(domain)) dp.reject(`${domain} appears in more than one virtual host (domains must be unique)`);
      seenDomains.add(domain);
      if (domain === '*') defaultHost = host;
      else if (domain.startsWith('*')) bucket(suffixes, domain.length - 1).set(domain.slice(1), host);
      else if (domain.endsWith('*')) bucket(prefixes, domain.length - 1).set(domain.slice(0, -1), host);
      else exact.set(domain, host);
    });
  });

  if (validateClusters) {
    for (const cluster of clusterNames) {
      if (!context.clusterExists(cluster)) root.reject(`references cluster ${cluster}, which does not exist (validate_clusters)`);
    }
  }
  return new RouteTable(name, exact, sortedBuckets(suffixes), sortedBuckets(prefixes), defaultHost, ignorePort, clusterNames);
}

function bucket(buckets: Map<number, Map<string, VirtualHost>>, length: number): Map<string, VirtualHost> {
  let b = buckets.get(length);
  if (!b) buckets.set(length, (b = new Map()));
  return b;
}

function sortedBuckets(buckets: Map<number, Map<string, VirtualHost>>): WildcardBucket[] {
  return [...buckets].sort((a, b) => b[0] - a[0]).map(([length, domains]) => ({ length, domains }));
}

/** The header mutation levels above a route. */
type LevelsAbove = { virtualHost: MutationLevels; routeConfiguration: MutationLevels; mostSpecificWins: boolean };

/** A route's request and response chains, built from its own level and the levels above it. */
type RouteChains = { request: (HeaderMutationLevel | null)[]; response: (HeaderMutationLevel | null)[] };

function compileRoute(at: FieldPath, value: unknown, virtualHostName: string, clusterNames: Set<string>, vhRetry: RetryPolicy | null,
  vhFilters: PerFilterConfig, above: LevelsAbove): Route {
  const r = message(at, value);
  checkFields(at, r, routeFields);
  const name = string(at.field('name'), r.name) ?? '';
  const mp = at.field('match');
  const match = optionalMessage(mp, r.match);
  if (!match) throw mp.error('is required');
  checkFields(mp, match, matchFields);
  const kinds = ['prefix', 'path', 'safe_regex'].filter((k) => match[k] !== undefined && match[k] !== null);
  if (kinds.length !== 1) mp.reject('must set exactly one of prefix, path, safe_regex');
  const caseSensitive = boolWrapper(mp.field('case_sensitive'), match.case_sensitive) ?? true;
  let pathMatch: PathMatch;
  let pathValue = '';
  let regex: RegExp | null = null;
  if (kinds[0] === 'safe_regex') {
    pathMatch = PathMatch.Regex;
    regex = compileRegex(mp.field('safe_regex'), match.safe_regex);
  } else {
    pathMatch = kinds[0] === 'path' ? PathMatch.Exact : PathMatch.Prefix;
    pathValue = string(mp.field(kinds[0]), match[kinds[0]])!;
  }
  const headers = repeated(mp.field('headers'), match.headers).map((h, i) => compileHeaderMatcher(mp.field('headers').item(i), h));
  const queryParameters = repeated(mp.field('query_parameters'), match.query_parameters)
    .map((q, i) => compileQueryParameterMatcher(mp.field('query_parameters').item(i), q));

  const hasAction = r.route !== undefined && r.route !== null;
  const hasDirect = r.direct_response !== undefined && r.direct_response !== null;
  const hasRedirect = r.redirect !== undefined && r.redirect !== null;
  if (Number(hasAction) + Number(hasDirect) + Number(hasRedirect) !== 1) at.reject('must set exactly one of route, redirect, direct_response');
  const own = compileMutationLevels(at, r);
  const chains: RouteChains = {
    request: routeChain(own.request, above.virtualHost.request, above.routeConfiguration.request, above.mostSpecificWins),
    response: routeChain(own.response, above.virtualHost.response, above.routeConfiguration.response, above.mostSpecificWins),
  };
  let action: RouteAction | null = null;
  let direct: DirectResponse | null = null;
  let redirect: Redirect | null = null;
  if (hasAction) {
    action = compileAction(at.field('route'), message(at.field('route'), r.route), clusterNames, vhRetry, chains);
    if (action.prefixRewrite !== null && pathMatch === PathMatch.Regex) {
      at.field('route').field('prefix_rewrite').reject('cannot be used with a safe_regex match');
    }
  } else if (hasRedirect) {
    redirect = compileRedirect(at.field('redirect'), message(at.field('redirect'), r.redirect));
    if (redirect.prefixRewrite !== null && pathMatch === PathMatch.Regex) {
      at.field('redirect').field('prefix_rewrite').reject('cannot be used with a safe_regex match');
    }
  } else {
    direct = compileDirectResponse(at.field('direct_response'), message(at.field('direct_response'), r.direct_response));
  }
  const filters = compilePerFilterConfig(at.field('typed_per_filter_config'), r.typed_per_filter_config, vhFilters,
    `route ${name || '(unnamed)'} of virtual host ${virtualHostName}`);
  return new Route(name, virtualHostName, pathMatch, pathValue, caseSensitive, regex, headers, queryParameters, action, direct, redirect,
    HeaderMutations.of(chains.request), HeaderMutations.of(chains.response), filters);
}

function compileAction(at: FieldPath, a: Message, clusterNames: Set<string>, vhRetry: RetryPolicy | null, chains: RouteChains): RouteAction {
  checkFields(at, a, actionFields);
  const cluster = string(at.field('cluster'), a.cluster);
  const wc = optionalMessage(at.field('weighted_clusters'), a.weighted_clusters);
  if ((cluster === undefined || cluster === '') === (wc === undefined)) at.reject('must set exactly one of cluster, weighted_clusters');
  let weighted: WeightedClusters | null = null;
  if (wc) {
    weighted = compileWeighted(at.field('weighted_clusters'), wc, chains);
    for (const n of weighted.names) clusterNames.add(n);
  } else {
    clusterNames.add(cluster!);
  }
  const timeoutMs = durationMs(at.field('timeout'), a.timeout) ?? defaultRouteTimeoutMs;
  const prefixRewrite = string(at.field('prefix_rewrite'), a.prefix_rewrite) ?? null;
  const regexRewrite = a.regex_rewrite === undefined || a.regex_rewrite === null ? null : compileRegexRewrite(at.field('regex_rewrite'), a.regex_rewrite);
  if (prefixRewrite !== null && regexRewrite !== null) at.reject('must set at most one of prefix_rewrite, regex_rewrite');
  const hostRewrite = string(at.field('host_rewrite_literal'), a.host_rewrite_literal) || null;
  if (prefixRewrite !== null && !/^[\x21-\x7e]*$/.test(prefixRewrite)) at.field('prefix_rewrite').reject('contains characters not allowed in a path');
  if (hostRewrite !== null && !/^[\x21-\x7e]+$/.test(hostRewrite)) at.field('host_rewrite_literal').reject('is not a valid host');
  const code = (a.cluster_not_found_response_code ?? 'SERVICE_UNAVAILABLE') as string;
  const clusterNotFoundStatus = clusterNotFoundCodes[code];
  if (clusterNotFoundStatus === undefined) throw at.field('cluster_not_found_response_code').error(`${code} is not a known code`);
  const hasRetry = a.retry_policy !== undefined && a.retry_policy !== null;
  const retryPolicy = hasRetry ? compileRetryPolicy(at.field('retry_policy'), a.retry_policy) : vhRetry;
  // Mirror clusters are validated with the route clusters (validate_clusters); at run time an absent one is counted and skipped.
  const mirrors = compileMirrorPolicies(at.field('request_mirror_policies'), a.request_mirror_policies, clusterNames);
  const hashPolicy = compileHashPolicy(at.field('hash_policy'), a.hash_policy);
  return new RouteAction(cluster ?? '', weighted, timeoutMs, prefixRewrite, regexRewrite, hostRewrite, clusterNotFoundStatus, retryPolicy,
    mirrors, hashPolicy);
}

function compileWeighted(at: FieldPath, wc: Message, chains: RouteChains): WeightedClusters {
  checkFields(at, wc, weightedFields);
  const names: string[] = [];
  const weights: number[] = [];
  const requestMutations: (HeaderMutations | null)[] = [];
  const responseMutations: (HeaderMutations | null)[] = [];
  repeated(at.field('clusters'), wc.clusters).forEach((c, i) => {
    const cp = at.field('clusters').item(i);
    const cw = message(cp, c);
    checkFields(cp, cw, clusterWeightFields);
    names.push(requiredString(cp.field('name'), cw.name));
    weights.push(uintWrapper(cp.field('weight'), cw.weight) ?? 0);
    // Envoy's WeightedClusterEntry: the cluster's own level first, then its route's chain.
    const own = compileMutationLevels(cp, cw);
    requestMutations.push(HeaderMutations.of([own.request, ...chains.request]));
    responseMutations.push(HeaderMutations.of([own.response, ...chains.response]));
  });
  if (names.length === 0) at.field('clusters').reject('must list at least one cluster');
  const sum = weights.reduce((a, b) => a + b, 0);
  const total = uintWrapper(at.field('total_weight'), wc.total_weight) ?? 0;
  if (total > 0 && total !== sum) at.field('total_weight').reject(`is ${total} but the cluster weights add up to ${sum}`);
  if (sum === 0) at.field('clusters').reject('weights must add up to more than 0');
  return new WeightedClusters(names, weights, sum, requestMutations, responseMutations);
}

function compileDirectResponse(at: FieldPath, d: Message): DirectResponse {
  checkFields(at, d, directResponseFields);
  const status = integer(at.field('status'), d.status);
  if (status === undefined || status < 200 || status > 599) throw at.field('status').error('must be between 200 and 599');
  const bodyMessage = optionalMessage(at.field('body'), d.body);
  let body: Buffer | null = null;
  if (bodyMessage) {
    checkFields(at.field('body'), bodyMessage, dataSourceFields);
    if (typeof bodyMessage.inline_string === 'string') body = Buffer.from(bodyMessage.inline_string);
    else if (Buffer.isBuffer(bodyMessage.inline_bytes)) body = bodyMessage.inline_bytes;
    else if (typeof bodyMessage.inline_bytes === 'string') body = Buffer.from(bodyMessage.inline_bytes, 'base64');
    else if (bodyMessage.inline_bytes !== undefined) at.field('body').field('inline_bytes').reject('must be bytes');
  }
  return new DirectResponse(status, body);
}
