// envoy.config.rbac.v3.RBAC compiled: an action and named policies. A policy matches when any of its
// permissions and any of its principals match; policies are tried in name order (Envoy keeps them in
// an ordered map), so the policy reported as the effective one is the first matching by name.
//   ALLOW: allowed iff some policy matches.  DENY: denied iff some policy matches.
//   LOG:   always allowed; whether a policy matched is the access log hint.
import { FieldPath, checkFields, isPresent, message, optionalMessage, repeated, type Message } from '../upstream/envoy-config.ts';
import { compilePermission, compilePrincipal } from './compile-rules.ts';
import type { ConnectionFacts } from './connection-facts.ts';
import type { RbacHttpRequest, RbacMatcher } from './matcher.ts';

export const RbacAction = { Allow: 0, Deny: 1, Log: 2 } as const;
export type RbacAction = (typeof RbacAction)[keyof typeof RbacAction];

const actions: Record<string, RbacAction> = { ALLOW: RbacAction.Allow, DENY: RbacAction.Deny, LOG: RbacAction.Log };

export class RbacPolicy {
  readonly name: string;
  readonly permissions: readonly RbacMatcher[];
  readonly principals: readonly RbacMatcher[];

  constructor(name: string, permissions: readonly RbacMatcher[], principals: readonly RbacMatcher[]) {
    this.name = name;
    this.permissions = permissions;
    this.principals = principals;
  }

  matches(connection: ConnectionFacts, http: RbacHttpRequest | null): boolean {
    let permitted = false;
    for (const p of this.permissions) {
      if (p.matches(connection, http)) {
        permitted = true;
        break;
      }
    }
    if (!permitted) return false;
    for (const p of this.principals) if (p.matches(connection, http)) return true;
    return false;
  }
}

export class RbacEngine {
  readonly action: RbacAction;
  /** In name order. */
  readonly policies: readonly RbacPolicy[];

  constructor(action: RbacAction, policies: readonly RbacPolicy[]) {
    this.action = action;
    this.policies = policies;
  }

  /** The first policy (by name) that matches, or null. */
  matchedPolicy(connection: ConnectionFacts, http: RbacHttpRequest | null): RbacPolicy | null {
    for (const p of this.policies) if (p.matches(connection, http)) return p;
    return null;
  }

  /** Whether the action lets a request or connection through, given the policy that matched (null: none). */
  allows(matched: RbacPolicy | null): boolean {
    if (this.action === RbacAction.Allow) return matched !== null;
    if (this.action === RbacAction.Deny) return matched === null;
    return true;
  }
}

const rbacFields = new Set(['action', 'policies', 'audit_logging_options']);
const policyFields = new Set(['permissions', 'principals', 'condition', 'checked_condition']);

export function compileRbacEngine(at: FieldPath, value: unknown): RbacEngine {
  const m = message(at, value);
  checkFields(at, m, rbacFields);
  if (isPresent(m.audit_logging_options)) at.field('audit_logging_options').reject('(audit loggers) is not supported');
  const raw = m.action ?? 'ALLOW';
  const action = typeof raw === 'number' ? ([RbacAction.Allow, RbacAction.Deny, RbacAction.Log] as const)[raw] : actions[String(raw)];
  if (action === undefined) at.field('action').reject(`${String(raw)} is not one of ALLOW, DENY, LOG`);
  const policies = optionalMessage(at.field('policies'), m.policies) ?? {};
  const names = Object.keys(policies).sort();
  return new RbacEngine(action, names.map((name) => compilePolicy(new FieldPath(at.resource, `${at.field('policies').path}[${name}]`), name, policies[name])));
}

function compilePolicy(at: FieldPath, name: string, value: unknown): RbacPolicy {
  const p: Message = message(at, value);
  checkFields(at, p, policyFields);
  if (isPresent(p.condition)) at.field('condition').reject('(a CEL expression) is not supported');
  if (isPresent(p.checked_condition)) at.field('checked_condition').reject('(a CEL expression) is not supported');
  const permissions = repeated(at.field('permissions'), p.permissions);
  if (permissions.length === 0) at.field('permissions').reject('must have at least one permission');
  const principals = repeated(at.field('principals'), p.principals);
  if (principals.length === 0) at.field('principals').reject('must have at least one principal');
  return new RbacPolicy(
    name,
    permissions.map((v, i) => compilePermission(at.field('permissions').item(i), v)),
    principals.map((v, i) => compilePrincipal(at.field('principals').item(i), v)),
  );
}
