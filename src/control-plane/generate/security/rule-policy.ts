// One rule of an AuthorizationPolicy → one Envoy RBAC Policy. Each `to` operation becomes one
// permission and each `from` source one principal (Envoy ORs them); inside each, every field and
// `when` condition is AND'ed; the values of a field are OR'ed and its not-values are negated.
//
// What cannot be expressed (an HTTP attribute on a TCP filter chain) follows Istio's rule: an ALLOW
// rule is dropped entirely (it then allows nothing: the safe side), while a DENY, AUDIT or CUSTOM
// rule only loses that field (it then matches more requests: the safe side for denying).
import type { AuthorizationRule } from '../../../api/index.ts';
import { isError, type Attribute, type Generated } from './attribute.ts';
import { conditionAttribute } from './conditions.ts';
import {
  permissionAnd, permissionAny, permissionNot, permissionOr, principalAnd, principalAny, principalNot, principalOr,
  type RbacMatcher,
} from './envoy-shapes.ts';
import { destinationPort, hosts, methods, paths } from './rbac-permissions.ts';
import {
  remoteIp, requestPrincipal, sourceIp, sourceNamespace, sourcePrincipal, sourceServiceAccount, sourceTrustDomain,
} from './rbac-principals.ts';
import { migrateTrustDomain } from './trust-domain.ts';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface RuleContext {
  policyNamespace: string;
  forTcp: boolean;
  action: RbacAction;
  /** The mesh's trust domain first, then its aliases. */
  trustDomains: string[];
}

export interface EnvoyPolicy { permissions: RbacMatcher[]; principals: RbacMatcher[] }

interface Clause { key: string; attr: Attribute; values: string[]; notValues: string[] }

function clause(key: string, attr: Attribute, values: string[] | undefined, notValues: string[] | undefined): Clause[] {
  return values?.length || notValues?.length ? [{ key, attr, values: values ?? [], notValues: notValues ?? [] }] : [];
}

const combinators = {
  permission: { and: permissionAnd, or: permissionOr, not: permissionNot, any: permissionAny },
  principal: { and: principalAnd, or: principalOr, not: principalNot, any: principalAny },
};

/** The matchers of one clause, or the error that drops the whole rule (ALLOW only). */
function clauseMatchers(c: Clause, ctx: RuleContext): RbacMatcher[] | { error: string } {
  const k = combinators[c.attr.side];
  const out: RbacMatcher[] = [];
  for (const [values, negate] of [[c.values, false], [c.notValues, true]] as const) {
    if (values.length === 0) continue;
    const generated: Generated[] = ctx.forTcp && c.attr.httpOnly
      ? [{ error: `"${c.key}" is HTTP only` }]
      : c.attr.all ? [c.attr.all(values)] : values.map((v) => c.attr.each!(v));
    const ok: RbacMatcher[] = [];
    for (const g of generated) {
      if (isError(g)) {
        if (ctx.action === 'ALLOW') return { error: `${c.key}: ${g.error}` };
        continue;
      }
      ok.push(g);
    }
    if (ok.length === 0) continue;
    const m = c.attr.all ? ok[0] : k.or(ok);
    out.push(negate ? k.not(m) : m);
  }
  return out;
}

function conjunction(side: 'permission' | 'principal', clauses: Clause[], ctx: RuleContext): RbacMatcher | { error: string } {
  const k = combinators[side];
  const all: RbacMatcher[] = [];
  for (const c of clauses) {
    const ms = clauseMatchers(c, ctx);
    if (isError(ms)) return ms;
    all.push(...ms);
  }
  return k.and(all.length > 0 ? all : [k.any]);
}

/** The Envoy policy of one rule, or why the rule is left out of this filter. */
export function rulePolicy(rule: AuthorizationRule, ctx: RuleContext): EnvoyPolicy | { error: string } {
  const basePermission: Clause[] = [];
  const basePrincipal: Clause[] = [];
  for (const when of rule.when ?? []) {
    const attr = conditionAttribute(when.key, ctx.policyNamespace);
    if (typeof attr === 'string') return { error: attr };
    let values = when.values;
    let notValues = when.notValues;
    if (attr === sourcePrincipal) {
      values = values && migrateTrustDomain(values, ctx.trustDomains);
      notValues = notValues && migrateTrustDomain(notValues, ctx.trustDomains);
    }
    (attr.side === 'permission' ? basePermission : basePrincipal).push(...clause(when.key, attr, values, notValues));
  }

  const sources = (rule.from ?? []).map(({ source: s }) => [
    ...clause('principals', sourcePrincipal, s?.principals && migrateTrustDomain(s.principals, ctx.trustDomains),
      s?.notPrincipals && migrateTrustDomain(s.notPrincipals, ctx.trustDomains)),
    ...clause('requestPrincipals', requestPrincipal, s?.requestPrincipals, s?.notRequestPrincipals),
    ...clause('serviceAccounts', sourceServiceAccount(ctx.policyNamespace), s?.serviceAccounts, s?.notServiceAccounts),
    ...clause('namespaces', sourceNamespace, s?.namespaces, s?.notNamespaces),
    ...clause('trustDomains', sourceTrustDomain, s?.trustDomains, s?.notTrustDomains),
    ...clause('remoteIpBlocks', remoteIp, s?.remoteIpBlocks, s?.notRemoteIpBlocks),
    ...clause('ipBlocks', sourceIp, s?.ipBlocks, s?.notIpBlocks),
    ...basePrincipal,
  ]);
  const operations = (rule.to ?? []).map(({ operation: o }) => [
    ...clause('hosts', hosts, o?.hosts, o?.notHosts),
    ...clause('methods', methods, o?.methods, o?.notMethods),
    ...clause('paths', paths, o?.paths, o?.notPaths),
    ...clause('ports', destinationPort, o?.ports, o?.notPorts),
    ...basePermission,
  ]);

  const permissions: RbacMatcher[] = [];
  for (const clauses of operations.length > 0 ? operations : [basePermission]) {
    const p = conjunction('permission', clauses, ctx);
    if (isError(p)) return p;
    permissions.push(p);
  }
  const principals: RbacMatcher[] = [];
  for (const clauses of sources.length > 0 ? sources : [basePrincipal]) {
    const p = conjunction('principal', clauses, ctx);
    if (isError(p)) return p;
    principals.push(p);
  }
  return { permissions, principals };
}
