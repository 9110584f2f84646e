// One HTTPFault as the fault filter reads it per request (config.ts compiles it).
import type { FractionalPercent } from './percentage.ts';

export const AbortKind = { None: 0, Http: 1, Grpc: 2 } as const;
export type AbortKind = (typeof AbortKind)[keyof typeof AbortKind];

/** One HTTPFault, compiled. Immutable; shared by every request it applies to. */
export class FaultSettings {
  /** 0: no delay. */
  readonly delayMs: number;
  readonly delayPercent: FractionalPercent;
  readonly abortKind: AbortKind;
  /** The HTTP status of an HTTP abort. */
  readonly abortHttpStatus: number;
  /** The grpc-status of a gRPC abort. */
  readonly abortGrpcStatus: number;
  readonly abortPercent: FractionalPercent;
  /** Infinity when unset (Envoy: unlimited). */
  readonly maxActiveFaults: number;
  /** Whether this config can inject anything (false: the filter lets every request go on untouched). */
  readonly injects: boolean;

  constructor(delayMs: number, delayPercent: FractionalPercent, abortKind: AbortKind, abortHttpStatus: number,
    abortGrpcStatus: number, abortPercent: FractionalPercent, maxActiveFaults: number) {
    this.delayMs = delayMs;
    this.delayPercent = delayPercent;
    this.abortKind = abortKind;
    this.abortHttpStatus = abortHttpStatus;
    this.abortGrpcStatus = abortGrpcStatus;
    this.abortPercent = abortPercent;
    this.maxActiveFaults = maxActiveFaults;
    this.injects = (delayMs > 0 && delayPercent.numerator > 0) || (abortKind !== AbortKind.None && abortPercent.numerator > 0);
  }
}
