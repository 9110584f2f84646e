// Checks generated config against Envoy's own .proto files: every field name exists in its message
// (snake_case), enum values are names the enum has, oneofs hold at most one member (exactly one
// where Envoy requires it), and the validate rules on list lengths and string lengths hold.
import protobuf from 'protobufjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { protoIncludeDirs } from '../../../../src/xds/protos.ts';

const files = [
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
];

let root: protobuf.Root | undefined;

function load(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of protoIncludeDirs) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  r.loadSync(files, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

const scalarKinds: Record<string, string> = {
  string: 'string', bytes: 'string', bool: 'boolean',
  uint32: 'number', int32: 'number', double: 'number', float: 'number', fixed32: 'number', sint32: 'number',
  uint64: 'number|string', int64: 'number|string',
};

function checkValue(field: protobuf.Field, value: unknown, path: string, errors: string[]): void {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) errors.push(`${path}: expected a ${t.fullName} object`);
    else checkMessage(t, value as Record<string, unknown>, path, errors);
  } else if (t instanceof protobuf.Enum) {
    if (typeof value !== 'string' || !(value in t.values)) errors.push(`${path}: "${String(value)}" is not a value of ${t.fullName}`);
  } else {
    const kind = scalarKinds[field.type];
    if (kind && !kind.split('|').includes(typeof value)) errors.push(`${path}: expected ${field.type}, found ${typeof value}`);
    const minLen = field.options?.['(validate.rules).string.min_len'];
    if (typeof value === 'string' && typeof minLen === 'number' && value.length < minLen) errors.push(`${path}: shorter than ${minLen}`);
  }
}

function checkMessage(type: protobuf.Type, obj: Record<string, unknown>, path: string, errors: string[]): void {
  if (type.fullName === '.google.protobuf.Any') {
    const url = obj['@type'];
    if (typeof url !== 'string') { errors.push(`${path}: Any without @type`); return; }
    const inner = load().lookupType(url.slice(url.lastIndexOf('/') + 1));
    const { '@type': _t, ...rest } = obj;
    checkMessage(inner, rest, path, errors);
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) { errors.push(`${path}.${key}: no field "${key}" in ${type.fullName}`); continue; }
    field.resolve();
    if (field.map) {
      for (const [k, v] of Object.entries(value as object)) checkValue(field, v, `${path}.${key}[${k}]`, errors);
    } else if (field.repeated) {
      if (!Array.isArray(value)) { errors.push(`${path}.${key}: expected a list`); continue; }
      const min = field.options?.['(validate.rules).repeated.min_items'];
      if (typeof min === 'number' && value.length < min) errors.push(`${path}.${key}: fewer than ${min} items`);
      value.forEach((v, i) => checkValue(field, v, `${path}.${key}[${i}]`, errors));
    } else {
      checkValue(field, value, `${path}.${key}`, errors);
    }
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => obj[name] !== undefined);
    if (set.length > 1) errors.push(`${path}: oneof ${oneof.name} has ${set.join(' and ')}`);
    if (set.length === 0 && oneof.options?.['(validate.required)']) errors.push(`${path}: oneof ${oneof.name} is required`);
  }
}

/** Problems of an Envoy Any (an object with '@type') against the protos; empty when it is sound. */
export function protoProblems(any: Record<string, unknown>): string[] {
  const errors: string[] = [];
  checkMessage(load().lookupType('google.protobuf.Any'), any, String(any['@type']).split('.').pop() ?? '', errors);
  return errors;
}

/** Problems of the fields of one message type, e.g. HttpConnectionManager fields. */
export function messageProblems(typeName: string, obj: Record<string, unknown>): string[] {
  const errors: string[] = [];
  checkMessage(load().lookupType(typeName), obj, typeName, errors);
  return errors;
}
