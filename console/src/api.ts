/**
 * Every call the console makes goes through {@link api}: the public HTTP API of the server that
 * served the page, with the operator's key when one is set. Errors come back as {@link ApiError},
 * carrying the problem document's `code` and `detail` so the page can show the API's own words.
 */
import { currentKey } from './key-store.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface CallOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Sent as JSON. */
  readonly body?: unknown;
}

export function authHeaders(): Record<string, string> {
  const key = currentKey();
  return key === undefined ? {} : { authorization: `Bearer ${key}` };
}

/** Builds `path?name=value…`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** One path segment: ids are URL-safe already, but an operator may type anything. */
export const seg = (id: string): string => encodeURIComponent(id);

async function problemOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as { code?: unknown; detail?: unknown; title?: unknown };
    const code = typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`;
    const detail =
      typeof problem.detail === 'string'
        ? problem.detail
        : typeof problem.title === 'string'
          ? problem.title
          : response.statusText;
    return new ApiError(response.status, code, detail);
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, text || response.statusText);
  }
}

/** Calls the API and answers the parsed JSON body (`undefined` for 204). */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  const init: RequestInit = { method: options.method ?? 'GET', headers, cache: 'no-store' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The server did not answer: ${String(error)}`);
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Whether the server's OpenAPI description has `path`: optional endpoints are probed this way, not by a 404. */
let openApiPaths: Promise<Set<string>> | undefined;
export async function serverHasPath(path: string): Promise<boolean> {
  openApiPaths ??= api<{ paths?: Record<string, unknown> }>('/openapi.json').then((document) => {
    return new Set(Object.keys(document.paths ?? {}));
  });
  try {
    return (await openApiPaths).has(path);
  } catch {
    // Unreadable now (private reads and no key yet): ask again next time.
    openApiPaths = undefined;
    return false;
  }
}
