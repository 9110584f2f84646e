// Envoy's request/response header mutations of routes, virtual hosts, route configurations and weighted
// clusters (request_headers_to_add / _remove, response_headers_to_add / _remove), compiled at config time
// into one HeaderMutations chain per route (and per weighted cluster). A route without any mutation has
// a null chain: nothing runs and nothing is allocated per request.
//
// Semantics follow Envoy's HeaderParser::evaluateHeaders, level by level:
//  1. the level's *_headers_to_remove are removed (remove-before-add);
//  2. each HeaderValueOption of the level is decided against the headers as they are now (after the
//     removal, before any add of the same level): APPEND_IF_EXISTS_OR_ADD adds another entry,
//     ADD_IF_ABSENT adds only when the header is absent, OVERWRITE_IF_EXISTS_OR_ADD sets it,
//     OVERWRITE_IF_EXISTS sets it only when present;
//  3. the overwrites are applied, then the adds.
// An empty value is skipped unless keep_empty_value (values are literals here, so that is decided now).
//
// Level order (Envoy's finalizeRequestHeaders / finalizeResponseHeaders): the weighted cluster's level
// first, then, with most_specific_header_mutations_wins false (the default), route → virtual host →
// route configuration: the least specific level is evaluated last, so its OVERWRITE actions win over a
// route's. With most_specific_header_mutations_wins true: route configuration → virtual host → route,
// so the most specific level wins. (The weighted cluster's level is evaluated first either way, as in
// Envoy's WeightedClusterEntry, which evaluates its own parser before its route's.)
import { FieldPath, boolWrapper, checkFields, message, repeated, requiredString, string, type Message } from '../../upstream/envoy-config.ts';

export const AppendAction = { AppendIfExistsOrAdd: 0, AddIfAbsent: 1, OverwriteIfExistsOrAdd: 2, OverwriteIfExists: 3 } as const;
export type AppendAction = (typeof AppendAction)[keyof typeof AppendAction];

const appendActions: Record<string, AppendAction> = {
  APPEND_IF_EXISTS_OR_ADD: AppendAction.AppendIfExistsOrAdd,
  ADD_IF_ABSENT: AppendAction.AddIfAbsent,
  OVERWRITE_IF_EXISTS_OR_ADD: AppendAction.OverwriteIfExistsOrAdd,
  OVERWRITE_IF_EXISTS: AppendAction.OverwriteIfExists,
};
const appendActionByNumber: readonly AppendAction[] = [0, 1, 2, 3];

const headerValueOptionFields = new Set(['header', 'append', 'append_action', 'keep_empty_value']);
// raw_value (bytes) is not supported.
const headerValueFields = new Set(['key', 'value']);

/** RFC 9110 token (what node:http accepts as a header name). */
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** What node:http accepts in a header value (no CR, LF, NUL or other controls but tab). */
const invalidValueChar = /[^\t\x20-\x7e\x80-\xff]/;

const Decision = { Skip: 0, Add: 1, Overwrite: 2 } as const;
/** Decisions of the level being applied (reused: apply is synchronous). Grown at config time. */
let scratch = new Uint8Array(8);

/** One level's mutations (one route, virtual host, route configuration or weighted cluster; one direction). */
export class HeaderMutationLevel {
  readonly remove: readonly string[];
  readonly keys: readonly string[];
  readonly values: readonly string[];
  readonly actions: readonly AppendAction[];

  constructor(remove: string[], keys: string[], values: string[], actions: AppendAction[]) {
    this.remove = remove;
    this.keys = keys;
    this.values = values;
    this.actions = actions;
    if (keys.length > scratch.length) scratch = new Uint8Array(keys.length * 2);
  }

  /** `headers`: a flat [name, value, ...] list with lower-cased names, changed in place. */
  apply(headers: string[]): void {
    const remove = this.remove;
    for (let i = 0; i < remove.length; i++) removeHeader(headers, remove[i]);
    const keys = this.keys;
    const n = keys.length;
    if (n === 0) return;
    const decisions = scratch;
    const actions = this.actions;
    for (let i = 0; i < n; i++) {
      switch (actions[i]) {
        case AppendAction.AppendIfExistsOrAdd: decisions[i] = Decision.Add; break;
        case AppendAction.AddIfAbsent: decisions[i] = indexOf(headers, keys[i]) === -1 ? Decision.Add : Decision.Skip; break;
        case AppendAction.OverwriteIfExistsOrAdd: decisions[i] = Decision.Overwrite; break;
        default: decisions[i] = indexOf(headers, keys[i]) === -1 ? Decision.Skip : Decision.Overwrite;
      }
    }
    const values = this.values;
    for (let i = 0; i < n; i++) if (decisions[i] === Decision.Overwrite) setHeader(headers, keys[i], values[i]);
    for (let i = 0; i < n; i++) if (decisions[i] === Decision.Add) headers.push(keys[i], values[i]);
  }
}

/** The levels that apply to one route (or one weighted cluster of a route), in evaluation order. */
export class HeaderMutations {
  readonly levels: readonly HeaderMutationLevel[];

  constructor(levels: HeaderMutationLevel[]) {
    this.levels = levels;
  }

  apply(headers: string[]): void {
    const levels = this.levels;
    for (let i = 0; i < levels.length; i++) levels[i].apply(headers);
  }

  /** The chain of the given levels (nulls skipped), or null when none mutates anything. */
  static of(levels: (HeaderMutationLevel | null)[]): HeaderMutations | null {
    const present = levels.filter((l): l is HeaderMutationLevel => l !== null);
    return present.length === 0 ? null : new HeaderMutations(present);
  }
}

/** A level's request and response mutations. */
export type MutationLevels = { request: HeaderMutationLevel | null; response: HeaderMutationLevel | null };

/** The four *_headers_to_add / _remove fields of a Route, VirtualHost, RouteConfiguration or ClusterWeight. */
export const headerMutationFields = ['request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove'];

export function compileMutationLevels(at: FieldPath, m: Message): MutationLevels {
  return {
    request: compileLevel(at, m, 'request'),
    response: compileLevel(at, m, 'response'),
  };
}

/** Orders the levels of a route as Envoy evaluates them (see the file comment). */
export function routeChain(route: HeaderMutationLevel | null, virtualHost: HeaderMutationLevel | null,
  routeConfiguration: HeaderMutationLevel | null, mostSpecificWins: boolean): (HeaderMutationLevel | null)[] {
  return mostSpecificWins ? [routeConfiguration, virtualHost, route] : [route, virtualHost, routeConfiguration];
}

function compileLevel(at: FieldPath, m: Message, direction: 'request' | 'response'): HeaderMutationLevel | null {
  const removeAt = at.field(`${direction}_headers_to_remove`);
  const remove = repeated(removeAt, m[`${direction}_headers_to_remove`]).map((v, i) => {
    const p = removeAt.item(i);
    return headerName(p, requiredString(p, v), 'removed');
  });
  const keys: string[] = [];
  const values: string[] = [];
  const actions: AppendAction[] = [];
  const addAt = at.field(`${direction}_headers_to_add`);
  repeated(addAt, m[`${direction}_headers_to_add`]).forEach((v, i) => {
    const p = addAt.item(i);
    const option = message(p, v);
    checkFields(p, option, headerValueOptionFields);
    const hp = p.field('header');
    const header = message(hp, option.header);
    checkFields(hp, header, headerValueFields);
    const key = headerName(hp.field('key'), requiredString(hp.field('key'), header.key), 'modified');
    const value = literalValue(hp.field('value'), string(hp.field('value'), header.value) ?? '');
    const action = appendAction(p, option);
    const keepEmpty = option.keep_empty_value === true;
    if (value === '' && !keepEmpty) return; // Envoy drops an empty value unless keep_empty_value.
    keys.push(key);
    values.push(value);
    actions.push(action);
  });
  return remove.length === 0 && keys.length === 0 ? null : new HeaderMutationLevel(remove, keys, values, actions);
}

/** Envoy: pseudo-headers and Host may be neither added nor removed; names are lower-cased. */
function headerName(at: FieldPath, name: string, verb: 'modified' | 'removed'): string {
  const lower = name.toLowerCase();
  if (lower.startsWith(':') || lower === 'host') at.reject(`${name}: :-prefixed or host headers may not be ${verb}`);
  if (!tokenPattern.test(lower)) at.reject(`${JSON.stringify(name)} is not a valid header name`);
  return lower;
}

/**
 * A header value as Envoy's formatter reads it: `%%` is a literal `%`; `%COMMAND%` (or any other `%`)
 * is a command operator, none of which is supported.
 */
function literalValue(at: FieldPath, value: string): string {
  if (invalidValueChar.test(value)) at.reject('contains characters not allowed in a header value');
  if (!value.includes('%')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    if (value[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    const command = /^%([A-Z0-9_]+(?:\([^)]*\))?(?::[0-9]+)?)%/.exec(value.slice(i));
    if (command) at.reject(`uses the command operator %${command[1]}%, which is not supported (write %% for a literal %)`);
    at.reject(`has a % at position ${i} that starts no command operator (write %% for a literal %)`);
  }
  return out;
}

function appendAction(at: FieldPath, option: Message): AppendAction {
  const raw = option.append_action;
  let action: AppendAction = AppendAction.AppendIfExistsOrAdd;
  if (raw !== undefined && raw !== null) {
    const a = typeof raw === 'number' ? appendActionByNumber[raw] : appendActions[String(raw)];
    if (a === undefined) at.field('append_action').reject(`${String(raw)} is not a known action`);
    action = a;
  }
  const append = boolWrapper(at.field('append'), option.append);
  if (append === undefined) return action;
  // Envoy: the deprecated append may only be combined with the default append_action.
  if (action !== AppendAction.AppendIfExistsOrAdd) at.field('append').reject('cannot be set together with append_action');
  return append ? AppendAction.AppendIfExistsOrAdd : AppendAction.OverwriteIfExistsOrAdd;
}

function indexOf(headers: string[], name: string): number {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return i;
  return -1;
}

/** Removes every entry named `name` at or after index `from`, compacting the list in place. */
function removeHeader(headers: string[], name: string, from = 0): void {
  let w = from;
  for (let r = from; r < headers.length; r += 2) {
    if (headers[r] === name) continue;
    if (w !== r) {
      headers[w] = headers[r];
      headers[w + 1] = headers[r + 1];
    }
    w += 2;
  }
  headers.length = w;
}

/** Envoy's setReferenceKey: one entry with the value (the first kept in place, others removed). */
function setHeader(headers: string[], name: string, value: string): void {
  const first = indexOf(headers, name);
  if (first === -1) {
    headers.push(name, value);
    return;
  }
  headers[first + 1] = value;
  removeHeader(headers, name, first + 2);
}
