// envoy.config.core.v3.DataSource for certificates and keys: inline_string, inline_bytes (a Buffer from
// the decoder, or base64 text in hand-written JSON) or filename. A file is read once, when the config
// is compiled (never on a connection); a file that cannot be read rejects the config.
import { readFileSync } from 'node:fs';
import { FieldPath, checkFields, isPresent, message, string } from '../upstream/envoy-config.ts';

const dataSourceFields = new Set(['inline_string', 'inline_bytes', 'filename']);

export function compileDataSource(at: FieldPath, value: unknown): Buffer {
  const source = message(at, value);
  if (isPresent(source.environment_variable)) at.field('environment_variable').reject('is not supported');
  if (isPresent(source.watched_directory)) at.field('watched_directory').reject('is not supported');
  checkFields(at, source, dataSourceFields);
  const set = [...dataSourceFields].filter((f) => isPresent(source[f]));
  if (set.length !== 1) at.reject(set.length === 0 ? 'must set inline_string, inline_bytes or filename' : `sets ${set.join(' and ')}; exactly one is allowed`);
  let data: Buffer;
  if (set[0] === 'inline_string') {
    data = Buffer.from(string(at.field('inline_string'), source.inline_string) ?? '', 'utf8');
  } else if (set[0] === 'inline_bytes') {
    const bytes = source.inline_bytes;
    if (typeof bytes === 'string') data = Buffer.from(bytes, 'base64');
    else if (bytes instanceof Uint8Array) data = Buffer.from(bytes);
    else throw at.field('inline_bytes').error('must be bytes');
  } else {
    const file = string(at.field('filename'), source.filename) ?? '';
    try {
      data = readFileSync(file);
    } catch (err) {
      throw at.field('filename').error(`${JSON.stringify(file)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (data.length === 0) at.reject('is empty');
  return data;
}
