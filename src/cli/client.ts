// The CLI's only way to the control plane: its HTTP admin API.
export const defaultServer = process.env.WEFT_SERVER ?? 'http://127.0.0.1:15014';

export const serverFlag = { server: { type: 'string' as const } };
export const serverHelp = `  --server URL              control plane admin API (default ${defaultServer}, or $WEFT_SERVER)`;

export class ApiError extends Error {
  readonly status: number;
  readonly body: any;
  constructor(status: number, body: any) {
    super(describe(body, status));
    this.status = status;
    this.body = body;
  }
}

function describe(body: any, status: number): string {
  if (body && Array.isArray(body.errors)) return body.errors.map((e: { message: string }) => e.message).join('\n');
  if (body && typeof body.error === 'string') return body.error;
  return `control plane answered HTTP ${status}`;
}

export async function call(server: string | undefined, method: string, path: string, body?: string, contentType = 'application/yaml'): Promise<any> {
  const base = (server ?? defaultServer).replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(base + path, { method, body, headers: body !== undefined ? { 'content-type': contentType } : {} });
  } catch (err) {
    throw new Error(`cannot reach the control plane at ${base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  let parsed: any;
  try { parsed = JSON.parse(text); } catch { parsed = { error: text }; }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

/** A GET whose answer is text (PEM), not JSON. */
export async function callText(server: string | undefined, path: string): Promise<string> {
  const base = (server ?? defaultServer).replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(base + path);
  } catch (err) {
    throw new Error(`cannot reach the control plane at ${base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) {
    let parsed: any;
    try { parsed = JSON.parse(text); } catch { parsed = { error: text }; }
    throw new ApiError(res.status, parsed);
  }
  return text;
}
