// A bare HTTP client for tests that check the protocol itself (status codes, Status bodies, watch
// lines) without a Kubernetes client library in between.
import type { KubeObject } from './types.ts';

export interface RawResponse {
  status: number;
  body: KubeObject & Record<string, unknown>;
}

export async function call(baseUrl: string, method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': contentType } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed as RawResponse['body'] };
}

export interface WatchEventLine {
  type: string;
  object: KubeObject & Record<string, unknown>;
}

export interface RawWatch {
  status: number;
  /** The next event line; undefined once the server ended the stream. */
  next(): Promise<WatchEventLine | undefined>;
  /** Every event until the server ends the stream. */
  rest(): Promise<WatchEventLine[]>;
  close(): void;
}

export async function watch(baseUrl: string, path: string): Promise<RawWatch> {
  const abort = new AbortController();
  const res = await fetch(baseUrl + path, { signal: abort.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let ended = false;
  const next = async (): Promise<WatchEventLine | undefined> => {
    while (!buffered.includes('\n')) {
      if (ended) return undefined;
      const { done, value } = await reader.read();
      if (done) ended = true;
      else buffered += decoder.decode(value, { stream: true });
    }
    const index = buffered.indexOf('\n');
    const line = buffered.slice(0, index);
    buffered = buffered.slice(index + 1);
    return JSON.parse(line) as WatchEventLine;
  };
  return {
    status: res.status,
    next,
    async rest() {
      const events: WatchEventLine[] = [];
      for (let e = await next(); e !== undefined; e = await next()) events.push(e);
      return events;
    },
    close: () => abort.abort(),
  };
}
