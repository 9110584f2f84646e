// envoy.config.rbac.v3 Permission and Principal → matcher trees (matcher.ts), once, when config
// arrives. Every rule kind of the protos is either compiled or rejected by name: the CEL conditions,
// the generic `matcher` / `uri_template` extensions and filter_state are not implemented.
import { compileMetadataMatcher } from '../http/metadata-matcher.ts';
import { compileHeaderMatcher } from '../http/routing/header-matcher.ts';
import { compileStringMatcher } from '../http/routing/string-matcher.ts';
import { compileCidrRange } from '../listener/cidr-range.ts';
import { FieldPath, bool, checkFields, integer, isPresent, message, optionalMessage, repeated, type Message } from '../upstream/envoy-config.ts';
import {
  AndMatcher, AuthenticatedRule, DestinationIpRule, DestinationPortRule, HeaderRule, MetadataRule, NotMatcher, OrMatcher,
  RemoteIpRule, RequestedServerNameRule, UrlPathRule, anyMatcher, type RbacMatcher,
} from './matcher.ts';

const permissionKinds = [
  'and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_ip', 'destination_port', 'destination_port_range', 'metadata',
  'not_rule', 'requested_server_name', 'matcher', 'uri_template',
];
const principalKinds = [
  'and_ids', 'or_ids', 'any', 'authenticated', 'source_ip', 'direct_remote_ip', 'remote_ip', 'header', 'url_path', 'metadata',
  'filter_state', 'not_id',
];
const permissionFields = new Set(permissionKinds);
const principalFields = new Set(principalKinds);

/** The one rule a oneof message sets; rejects none or several. */
function oneKind(at: FieldPath, m: Message, kinds: readonly string[], what: string): string {
  const set = kinds.filter((k) => isPresent(m[k]));
  if (set.length !== 1) at.reject(set.length === 0 ? `must set one ${what} rule (${kinds.join(', ')})` : `sets ${set.join(' and ')}; a ${what} has exactly one rule`);
  return set[0];
}

/** A Permission.Set / Principal.Set: `{rules}` / `{ids}`, at least one entry. */
function compileSet(at: FieldPath, value: unknown, field: 'rules' | 'ids', item: (at: FieldPath, value: unknown) => RbacMatcher): RbacMatcher[] {
  const set = message(at, value);
  checkFields(at, set, new Set([field]));
  const list = repeated(at.field(field), set[field]);
  if (list.length === 0) at.field(field).reject('must have at least one entry');
  return list.map((v, i) => item(at.field(field).item(i), v));
}

/** `any: true` (the proto allows only true). */
function anyRule(at: FieldPath, value: unknown): RbacMatcher {
  if (bool(at, value) !== true) at.reject('must be true');
  return anyMatcher;
}

/** PathMatcher: `{path: StringMatcher}`, matched against the path without query string. */
function urlPathRule(at: FieldPath, value: unknown): RbacMatcher {
  const m = message(at, value);
  checkFields(at, m, new Set(['path']));
  const path = optionalMessage(at.field('path'), m.path);
  if (path === undefined) throw at.field('path').error('is required');
  return new UrlPathRule(compileStringMatcher(at.field('path'), path));
}

function port(at: FieldPath, value: unknown): number {
  const n = integer(at, value) ?? 0;
  if (n < 0 || n > 65535) at.reject(`${n} is not a port`);
  return n;
}

export function compilePermission(at: FieldPath, value: unknown): RbacMatcher {
  const m = message(at, value);
  checkFields(at, m, permissionFields);
  const kind = oneKind(at, m, permissionKinds, 'permission');
  const kat = at.field(kind);
  switch (kind) {
    case 'and_rules': return new AndMatcher(compileSet(kat, m.and_rules, 'rules', compilePermission));
    case 'or_rules': return new OrMatcher(compileSet(kat, m.or_rules, 'rules', compilePermission));
    case 'any': return anyRule(kat, m.any);
    case 'header': return new HeaderRule(compileHeaderMatcher(kat, m.header));
    case 'url_path': return urlPathRule(kat, m.url_path);
    case 'destination_ip': return new DestinationIpRule(compileCidrRange(kat, m.destination_ip));
    case 'destination_port': {
      const p = port(kat, m.destination_port);
      return new DestinationPortRule(p, p + 1);
    }
    case 'destination_port_range': {
      const r = message(kat, m.destination_port_range);
      checkFields(kat, r, new Set(['start', 'end']));
      const start = integer(kat.field('start'), r.start) ?? 0;
      const end = integer(kat.field('end'), r.end) ?? 0;
      if (start > end) kat.reject(`start ${start} is after end ${end}`);
      return new DestinationPortRule(start, end);
    }
    case 'metadata': return new MetadataRule(compileMetadataMatcher(kat, m.metadata));
    case 'not_rule': return new NotMatcher(compilePermission(kat, m.not_rule));
    case 'requested_server_name': return new RequestedServerNameRule(compileStringMatcher(kat, m.requested_server_name));
    case 'matcher': return kat.reject('(a permission matcher extension) is not supported');
    default: return kat.reject('(URI template matching) is not supported');
  }
}

export function compilePrincipal(at: FieldPath, value: unknown): RbacMatcher {
  const m = message(at, value);
  checkFields(at, m, principalFields);
  const kind = oneKind(at, m, principalKinds, 'principal');
  const kat = at.field(kind);
  switch (kind) {
    case 'and_ids': return new AndMatcher(compileSet(kat, m.and_ids, 'ids', compilePrincipal));
    case 'or_ids': return new OrMatcher(compileSet(kat, m.or_ids, 'ids', compilePrincipal));
    case 'any': return anyRule(kat, m.any);
    case 'authenticated': {
      const a = message(kat, m.authenticated);
      checkFields(kat, a, new Set(['principal_name']));
      const name = optionalMessage(kat.field('principal_name'), a.principal_name);
      return new AuthenticatedRule(name === undefined ? null : compileStringMatcher(kat.field('principal_name'), name));
    }
    case 'source_ip': return new RemoteIpRule(compileCidrRange(kat, m.source_ip));
    case 'direct_remote_ip': return new RemoteIpRule(compileCidrRange(kat, m.direct_remote_ip));
    case 'remote_ip': return new RemoteIpRule(compileCidrRange(kat, m.remote_ip));
    case 'header': return new HeaderRule(compileHeaderMatcher(kat, m.header));
    case 'url_path': return urlPathRule(kat, m.url_path);
    case 'metadata': return new MetadataRule(compileMetadataMatcher(kat, m.metadata));
    case 'not_id': return new NotMatcher(compilePrincipal(kat, m.not_id));
    default: return kat.reject('(filter state matching) is not supported');
  }
}
