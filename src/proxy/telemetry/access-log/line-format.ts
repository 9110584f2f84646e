// One access log line from a finished exchange: a text format (the format string as written, which
// carries its own newline when it wants one) or a JSON object per line. The JSON is assembled from
// key prefixes escaped once at config time; only the values are escaped per line. Values keep the type
// Envoy's JSON formatter gives them: a value that is exactly one command is a number (status, bytes,
// duration) or null when missing; number and bool literals of the format stay literals.
import type { JsonValue } from '../../../xds/struct.ts';
import type { FieldPath } from '../../upstream/envoy-config.ts';
import { compileFormatString, type FormatString } from './format.ts';
import type { LogRecord } from './record.ts';

export interface LineFormat {
  line(record: LogRecord): string;
}

export class TextLineFormat implements LineFormat {
  private readonly format: FormatString;
  private readonly missing: string;

  constructor(format: FormatString, omitEmpty: boolean) {
    this.format = format;
    this.missing = omitEmpty ? '' : '-';
  }

  line(record: LogRecord): string {
    return this.format.text(record, this.missing);
  }
}

type JsonField = { prefix: string; value: FormatString | JsonObjectFormat | string };

/** One JSON object of the format (nested objects are allowed, as in Envoy). */
class JsonObjectFormat {
  private readonly fields: readonly JsonField[];
  private readonly omitEmpty: boolean;

  constructor(fields: JsonField[], omitEmpty: boolean) {
    this.fields = fields;
    this.omitEmpty = omitEmpty;
  }

  write(record: LogRecord): string {
    let out = '{';
    let first = true;
    for (const field of this.fields) {
      const v = field.value;
      let text: string;
      if (typeof v === 'string') {
        text = v;
      } else if (v instanceof JsonObjectFormat) {
        text = v.write(record);
      } else {
        const value = v.value(record);
        if (this.omitEmpty && (value === null || value === '')) continue;
        text = typeof value === 'number' ? String(value) : JSON.stringify(value);
      }
      out += first ? field.prefix : `,${field.prefix}`;
      out += text;
      first = false;
    }
    return `${out}}`;
  }
}

export class JsonLineFormat implements LineFormat {
  private readonly root: JsonObjectFormat;

  constructor(root: JsonObjectFormat) {
    this.root = root;
  }

  line(record: LogRecord): string {
    return `${this.root.write(record)}\n`;
  }
}

export function compileJsonFormat(at: FieldPath, json: Record<string, JsonValue>, omitEmpty: boolean): JsonLineFormat {
  if (Object.keys(json).length === 0) at.reject('is empty');
  return new JsonLineFormat(compileObject(at, json, omitEmpty));
}

function compileObject(at: FieldPath, json: Record<string, JsonValue>, omitEmpty: boolean): JsonObjectFormat {
  const fields: JsonField[] = [];
  for (const [key, value] of Object.entries(json)) {
    const fp = at.field(key);
    const prefix = `${JSON.stringify(key)}:`;
    if (typeof value === 'string') fields.push({ prefix, value: compileFormatString(fp, value) });
    else if (typeof value === 'number' || typeof value === 'boolean') fields.push({ prefix, value: JSON.stringify(value) });
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) fields.push({ prefix, value: compileObject(fp, value, omitEmpty) });
    else fp.reject(`is ${value === null ? 'null' : 'a list'}; a JSON format value must be a format string, a number, a bool or an object`);
  }
  return new JsonObjectFormat(fields, omitEmpty);
}
