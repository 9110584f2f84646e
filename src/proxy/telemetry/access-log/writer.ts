// Where access log lines go: one writer per path, shared by every listener and connection manager that
// logs there (as Envoy's AccessLogManager shares one file per path). A line is appended to a buffer;
// the buffer is written once per turn of the event loop, never with synchronous I/O, and while the
// file (or stdout) pushes back the lines wait for 'drain'. The wait is bounded: past maxBufferedBytes,
// lines are dropped and counted rather than held in memory without end.
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Logger } from '../../../common/log.ts';

const maxBufferedBytes = 16 * 1024 * 1024;

export class AccessLogWriter {
  readonly path: string;
  /** Lines dropped because the destination could not keep up (or failed). */
  dropped = 0;
  private readonly logger: Logger;
  private stream: Writable | null = null;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private blocked = false;
  private failed = false;
  private readonly flushBound: () => void;
  private readonly onDrainBound: () => void;

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.logger = logger;
    this.flushBound = () => this.flush();
    this.onDrainBound = () => {
      this.blocked = false;
      if (this.pending.length > 0) this.schedule();
    };
  }

  /** Queues one line (with its newline). */
  write(line: string): void {
    if (this.failed || this.pendingBytes > maxBufferedBytes) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.blocked) this.schedule();
  }

  /** Resolves once every queued line has been handed to the destination and written out. */
  async flushed(): Promise<void> {
    while (this.pending.length > 0 || this.scheduled || this.blocked) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream === null || stream === process.stdout || stream === process.stderr) return Promise.resolve();
    return new Promise((resolve) => stream.end(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushBound);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.failed) return;
    const chunk = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    const stream = this.open();
    if (!stream.write(chunk)) {
      this.blocked = true;
      stream.once('drain', this.onDrainBound);
    }
  }

  private open(): Writable {
    if (this.stream !== null) return this.stream;
    if (this.path === '/dev/stdout') this.stream = process.stdout;
    else if (this.path === '/dev/stderr') this.stream = process.stderr;
    else {
      const file = fs.createWriteStream(this.path, { flags: 'a' });
      file.on('error', (err) => {
        this.failed = true;
        this.blocked = false;
        this.logger.error('access log file cannot be written; its lines are dropped', { path: this.path, error: err.message });
      });
      this.stream = file;
    }
    return this.stream;
  }
}

const writers = new Map<string, AccessLogWriter>();

/** The writer of `path`, made on first use and shared from then on. */
export function accessLogWriter(path: string, logger: Logger): AccessLogWriter {
  let writer = writers.get(path);
  if (writer === undefined) {
    writer = new AccessLogWriter(path, logger);
    writers.set(path, writer);
  }
  return writer;
}

/** Writes out what is queued and closes every file (at shutdown). */
export async function closeAccessLogWriters(): Promise<void> {
  const all = [...writers.values()];
  writers.clear();
  for (const w of all) {
    await w.flushed();
    await w.close();
  }
}
