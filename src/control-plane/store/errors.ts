// Errors a store user can cause, each with a stable code (DESIGN.md habit 10).
//   WEFT_E_STORE_CONFLICT   an expectedVersion check failed; the batch changed nothing
//   WEFT_E_STORE_INVALID_OP an op is malformed (bad key, value not JSON, same key twice in a batch)
//   WEFT_E_STORE_CORRUPT    the persisted state cannot be read or fails its checksum
//   WEFT_E_STORE_LOCKED     another process (or this one) already uses the data directory
//   WEFT_E_STORE_CLOSED     the store was closed, or stopped accepting writes after a failed write

export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class StoreConflictError extends StoreError {
  readonly kind: string;
  readonly namespace: string;
  readonly resourceName: string;
  readonly expectedVersion: number;
  /** 0 when the resource does not exist. */
  readonly actualVersion: number;
  constructor(key: { kind: string; namespace: string; name: string }, expectedVersion: number, actualVersion: number) {
    const expected = expectedVersion === 0 ? 'it not to exist' : `version ${expectedVersion}`;
    const found = actualVersion === 0 ? 'it does not exist' : `found version ${actualVersion}`;
    super('WEFT_E_STORE_CONFLICT',
      `conflict on ${key.kind} ${key.namespace}/${key.name}: expected ${expected}, but ${found}; nothing in the batch was changed`);
    this.kind = key.kind;
    this.namespace = key.namespace;
    this.resourceName = key.name;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

export class StoreInvalidOpError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super('WEFT_E_STORE_INVALID_OP', message, options);
  }
}

export class StoreCorruptError extends StoreError {
  readonly file: string;
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super('WEFT_E_STORE_CORRUPT',
      `embedded store state file ${file} cannot be loaded: ${reason}. ` +
      'Refusing to start with an empty store (that would lose data): restore the file from a backup, ' +
      'or move it aside to start empty.', options);
    this.file = file;
  }
}

export class StoreLockedError extends StoreError {
  readonly dataDir: string;
  readonly pid: number | undefined;
  constructor(dataDir: string, pid: number | undefined, detail?: string) {
    const holder = pid === undefined ? 'another process'
      : pid === process.pid ? `this process (PID ${pid})` : `process PID ${pid}`;
    super('WEFT_E_STORE_LOCKED',
      `data directory ${dataDir} is already in use by ${holder}` + (detail ? `: ${detail}` : '') +
      '; two control planes cannot share one data directory');
    this.dataDir = dataDir;
    this.pid = pid;
  }
}

export class StoreClosedError extends StoreError {
  constructor(message = 'the store is closed', options?: ErrorOptions) {
    super('WEFT_E_STORE_CLOSED', message, options);
  }
}
