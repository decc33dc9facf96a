/**
 * A live tail of a game's event stream. `EventSource` cannot send an `Authorization` header, so the
 * stream is read with `fetch` and parsed here (only the fields the server sends: id, event, data).
 */
import { ApiError, authHeaders } from './api.js';

export interface TailedEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
}

export interface TailOptions {
  /** Replay starts after this seq (`Last-Event-ID`). */
  readonly after: number;
  readonly signal: AbortSignal;
  readonly onOpen: () => void;
  readonly onEvent: (event: TailedEvent) => void;
}

function parseFrame(frame: string): TailedEvent | undefined {
  let id: string | undefined;
  let type = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'id') id = value;
    else if (name === 'event') type = value;
    else if (name === 'data') data.push(value);
  }
  if (id === undefined || data.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    parsed = data.join('\n');
  }
  return { seq: Number(id), type, data: parsed };
}

/** Reads the stream until it ends or `signal` aborts (which resolves quietly). */
export async function tailEvents(gameId: string, options: TailOptions): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`/api/game/${encodeURIComponent(gameId)}/stream`, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(options.after), ...authHeaders() },
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (options.signal.aborted) return;
    throw new ApiError(0, 'NETWORK', `The event stream did not open: ${String(error)}`);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let detail = text;
    let code = `HTTP_${response.status}`;
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string };
      code = problem.code ?? code;
      detail = problem.detail ?? text;
    } catch {}
    throw new ApiError(response.status, code, detail);
  }
  options.onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered = (buffered + value).replace(/\r\n?/g, '\n');
      const frames = buffered.split('\n\n');
      buffered = frames.pop() ?? '';
      for (const frame of frames) {
        const event = parseFrame(frame);
        if (event !== undefined) options.onEvent(event);
      }
    }
  } catch (error) {
    if (options.signal.aborted) return;
    throw new ApiError(0, 'NETWORK', `The event stream broke: ${String(error)}`);
  }
}
