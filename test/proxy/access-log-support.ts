// Access log config and reading for the access log tests: FileAccessLog entries as Envoy's config
// carries them, and reading a log file until it holds the lines a test expects (a bounded poll).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './support/wait.ts';

type Obj = Record<string, unknown>;

export const fileAccessLogType = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
export const celFilterType = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

/** One AccessLog writing to `file` with the given log_format (SubstitutionFormatString) and filter. */
export function fileAccessLog(file: string, logFormat?: Obj, filter?: Obj): Obj {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: { '@type': fileAccessLogType, path: file, ...(logFormat ? { log_format: logFormat } : {}) },
    ...(filter ? { filter } : {}),
  };
}

export function celFilter(expression: string): Obj {
  return { extension_filter: { name: 'envoy.access_loggers.extension_filters.cel', typed_config: { '@type': celFilterType, expression } } };
}

/** A fresh directory for log files; removed by the returned cleanup. */
export function tempLogDir(): { dir: string; file(name: string): string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-access-log-'));
  return { dir, file: (name) => path.join(dir, name), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}

/** The lines of `file` once `done` holds for them (waiting up to 5 s). */
export function linesWhen(file: string, done: (lines: string[]) => boolean): Promise<string[]> {
  return waitFor(`lines in ${path.basename(file)}`, () => readLines(file), done);
}

/** The JSON lines of `file` once one of them matches `match`; returns that line parsed. */
export async function jsonLine(file: string, match: (line: Obj) => boolean): Promise<Obj> {
  const lines = await linesWhen(file, (ls) => ls.some((l) => match(JSON.parse(l) as Obj)));
  return lines.map((l) => JSON.parse(l) as Obj).find(match)!;
}
