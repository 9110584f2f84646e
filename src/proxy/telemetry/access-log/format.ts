// Envoy's substitution formatter: a format string such as `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-
// ORIGINAL-PATH?:PATH)%" %RESPONSE_CODE%` compiled once, when the config arrives, into literal text and
// command operators; a log line is then a walk over that list. Text lines print '-' for a value that is
// not there. In a JSON format a value that is exactly one command keeps its type, as Envoy's JSON
// formatter does: numbers for the status, byte counts and duration, null for a missing value.
import type { FieldPath } from '../../upstream/envoy-config.ts';
import { formatResponseFlags } from '../response-flags.ts';
import type { LogRecord } from './record.ts';
import { compileStrftime } from './start-time.ts';

export type LogValue = string | number | null;
/** One command operator, ready to read its value from a record. */
export type Command = (record: LogRecord) => LogValue;

type Part = string | Command;

/** A compiled format string. */
export class FormatString {
  private readonly parts: readonly Part[];
  /** The only command when the string is exactly one command (typed in JSON), else null. */
  readonly single: Command | null;

  constructor(parts: Part[]) {
    this.parts = parts;
    this.single = parts.length === 1 && typeof parts[0] === 'function' ? parts[0] : null;
  }

  /** The text form: `missing` ('-', or '' with omit_empty_values) for a missing value. */
  text(record: LogRecord, missing = '-'): string {
    const parts = this.parts;
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (typeof part === 'string') {
        out += part;
      } else {
        const value = part(record);
        out += value === null ? missing : value;
      }
    }
    return out;
  }

  /** The JSON value: a single command keeps its type (null when missing), anything else is text. */
  value(record: LogRecord): LogValue {
    return this.single === null ? this.text(record) : this.single(record);
  }
}

// %NAME%, %NAME(arg)%, %NAME(arg):N% (the argument may hold anything but ')').
const commandPattern = /%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** Compiles a format string; an unknown command or a bad argument rejects the config at `at`. */
export function compileFormatString(at: FieldPath, format: string): FormatString {
  const parts: Part[] = [];
  let last = 0;
  for (const m of format.matchAll(commandPattern)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    parts.push(compileCommand(at, m[1], m[2], m[3] === undefined ? 0 : Number(m[3])));
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return new FormatString(parts);
}

function truncated(command: Command, max: number): Command {
  if (max <= 0) return command;
  return (record) => {
    const value = command(record);
    return typeof value === 'string' && value.length > max ? value.slice(0, max) : value;
  };
}

/** %REQ(X?Y)%: header X, else header Y. Pseudo-headers and header names compare in lower case. */
function headerCommand(at: FieldPath, name: string, arg: string | undefined, read: (record: LogRecord, header: string) => string | null): Command {
  if (arg === undefined || arg.trim() === '') at.reject(`%${name}(...)% needs a header name`);
  const [first, second, ...rest] = arg.split('?').map((h) => h.trim().toLowerCase());
  if (rest.length > 0 || first === '' || second === '') at.reject(`%${name}(${arg})% must be %${name}(X)% or %${name}(X?Y)%`);
  if (second === undefined) return (record) => read(record, first);
  return (record) => read(record, first) ?? read(record, second);
}

const simpleCommands: Record<string, Command> = {
  RESPONSE_CODE: (r) => r.responseCode,
  RESPONSE_FLAGS: (r) => formatResponseFlags(r.responseFlags),
  RESPONSE_CODE_DETAILS: (r) => r.responseCodeDetails(),
  CONNECTION_TERMINATION_DETAILS: (r) => r.connectionTerminationDetails(),
  BYTES_RECEIVED: (r) => r.bytesReceived,
  BYTES_SENT: (r) => r.bytesSent,
  DURATION: (r) => r.durationMs,
  UPSTREAM_HOST: (r) => r.upstreamHost(),
  UPSTREAM_CLUSTER: (r) => r.upstreamCluster(),
  UPSTREAM_CLUSTER_RAW: (r) => r.upstreamCluster(),
  UPSTREAM_LOCAL_ADDRESS: (r) => r.upstreamLocalAddress(),
  UPSTREAM_TRANSPORT_FAILURE_REASON: (r) => r.upstreamTransportFailureReason(),
  DOWNSTREAM_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress(),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress(),
  DOWNSTREAM_LOCAL_ADDRESS: (r) => r.downstreamLocalAddress(),
  DOWNSTREAM_PEER_URI_SAN: (r) => r.downstreamPeerUriSan(),
  REQUESTED_SERVER_NAME: (r) => r.requestedServerName(),
  ROUTE_NAME: (r) => r.routeName(),
  PROTOCOL: (r) => r.protocol(),
  UPSTREAM_PROTOCOL: (r) => r.upstreamProtocol(),
};

const headerReaders: Record<string, (record: LogRecord, header: string) => string | null> = {
  REQ: (r, h) => r.requestHeader(h),
  RESP: (r, h) => r.responseHeader(h),
  TRAILER: (r, h) => r.responseTrailer(h),
};

function compileCommand(at: FieldPath, name: string, arg: string | undefined, max: number): Command {
  const reader = headerReaders[name];
  if (reader !== undefined) return truncated(headerCommand(at, name, arg, reader), max);
  if (name === 'START_TIME') {
    if (max > 0) at.reject('%START_TIME% takes no length limit');
    if (arg === undefined || arg === '') return (r) => new Date(r.startTimeMs).toISOString();
    const format = compileStrftime(at, arg);
    return (r) => format(r.startTimeMs);
  }
  const command = simpleCommands[name];
  if (command === undefined) at.reject(`has the unknown or unsupported command %${name}%`);
  if (arg !== undefined) at.reject(`%${name}% takes no argument, got %${name}(${arg})%`);
  return truncated(command, max);
}
