/**
 * Fuzzing over a real socket: thousands of random and mutated requests (paths, methods, headers,
 * bodies, and some bytes that are not HTTP at all). Whatever arrives, the server answers below 500
 * in the problem+json shape for errors, and keeps serving.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_API_KEY, type TestServer } from '../support/http.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS = 2400;
const RAW_REQUESTS = 120;
const CONCURRENCY = 8;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (max: number) => Math.floor(random() * max);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
const chance = (p: number) => random() < p;

const ID_CHARS = 'abcXYZ019._:@-';
const NASTY = [
  '/',
  '..',
  '%2F',
  '%00',
  '%0A',
  '%',
  '%E0%A4%A',
  '%FF',
  '?',
  '#',
  ' ',
  '"',
  "'",
  '\\',
  'é',
  '𝄞',
  '*',
  '$',
  '{',
  '~',
];

function id(): string {
  if (chance(0.15))
    return pick(['', '.', '..', 'x'.repeat(201), 'y'.repeat(5000), '__proto__', 'constructor', '_health']);
  let text = '';
  for (let i = 0, n = 1 + int(12); i < n; i++)
    text += chance(0.1) ? pick(NASTY) : ID_CHARS[int(ID_CHARS.length)];
  return text;
}

function jsonValue(depth = 0): unknown {
  const kind = depth > 4 ? int(4) : int(7);
  switch (kind) {
    case 0:
      return pick([null, true, false]);
    case 1:
      return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53, Number.MAX_SAFE_INTEGER]);
    case 2:
      return pick(['', 'text', '𝄞✓', 'x'.repeat(int(3000)), '\u0000', '$inc', 'a.b']);
    case 3:
      return int(1000);
    case 4:
      return Array.from({ length: int(5) }, () => jsonValue(depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = 0, n = int(5); i < n; i++)
        object[pick(['a', 'b.c', '$set', '$inc', 'value', 'ttl', '', id()])] = jsonValue(depth + 1);
      return object;
    }
  }
}

/** A valid body for a route, which mutation then may break. */
function validBody(method: string, path: string): unknown {
  if (path === '/v1/commit') {
    return {
      ops: Array.from({ length: 1 + int(3) }, () =>
        pick([
          { op: 'put', collection: 'fuzz', key: id(), value: jsonValue() },
          { op: 'patch', collection: 'fuzz', key: id(), patch: { $inc: { n: int(5) } }, upsert: true },
          { op: 'delete', collection: 'fuzz', key: id() },
        ]),
      ),
    };
  }
  if (path === '/v1/admin/sweep') return pick([{}, { batchSize: 1 + int(100) }]);
  if (method === 'PATCH') {
    return pick([
      { $inc: { n: 1 }, upsert: true },
      { $set: { [pick(['a', 'b.c', 'x'])]: jsonValue() }, upsert: true, ttl: pick(['1s', '5m', null]) },
      { $push: { list: jsonValue() }, upsert: true },
      { $max: { best: int(100) }, $min: { worst: int(100) }, upsert: true },
    ]);
  }
  return { value: jsonValue(), ...(chance(0.3) ? { ttl: pick(['1s', '10m', '7d']) } : {}) };
}

function mutate(text: string): string {
  switch (int(8)) {
    case 0:
      return text.slice(0, int(text.length + 1));
    case 1: {
      const at = int(text.length + 1);
      return (
        text.slice(0, at) +
        pick(['{', '}', '[', ']', ',', ':', '"', '\\', 'null', 'NaN', '\u0000']) +
        text.slice(at)
      );
    }
    case 2:
      return text.replace(/"[^"]*"/, `"${id()}"`);
    case 3:
      return `${'['.repeat(40 + int(60))}${text}${']'.repeat(40 + int(60))}`;
    case 4:
      return JSON.stringify(jsonValue());
    case 5:
      return text.replace(/\d+/, pick(['-1', '1e999', '"7"', 'true', '0.5']));
    case 6:
      return text.replace(/"(\w+)":/, `"${pick(['extra', '$bad', '__proto__', 'constructor', 'VALUE'])}":`);
    default:
      return '';
  }
}

interface Planned {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | undefined;
}

const ROUTES: ReadonlyArray<readonly [string, () => string]> = [
  ['GET', () => `/v1/docs/fuzz/${id()}`],
  ['PUT', () => `/v1/docs/fuzz/${id()}`],
  ['PATCH', () => `/v1/docs/fuzz/${id()}`],
  ['DELETE', () => `/v1/docs/fuzz/${id()}`],
  [
    'GET',
    () =>
      `/v1/docs/${id()}?${pick(['limit=2', `prefix=${id()}`, `cursor=${id()}`, `keys=${id()},${id()}`, 'limit=x', 'keys=', `x=${id()}`])}`,
  ],
  ['POST', () => '/v1/commit'],
  ['PUT', () => `/v1/docs/match/${id()}`],
  ['GET', () => '/health'],
  ['GET', () => '/metrics'],
  ['POST', () => '/v1/admin/sweep'],
  ['GET', () => pick(['/openapi.json', '/docs', '/', '/v1', '/v1/docs', `/${id()}/${id()}`])],
];

function plan(): Planned {
  const [validMethod, makePath] = pick(ROUTES);
  let method = validMethod;
  let path = makePath();
  const headers: Record<string, string> = {};
  if (!chance(0.1))
    headers.authorization = chance(0.9)
      ? `Bearer ${TEST_API_KEY}`
      : pick(['Bearer wrong', 'Basic x', 'Bearer', '']);
  let body: string | Buffer | undefined;
  if (method !== 'GET' && method !== 'DELETE') {
    body = JSON.stringify(validBody(method, path));
    headers['content-type'] = 'application/json';
  }
  // Mutations: the method, the path, the headers, the body.
  if (chance(0.1)) method = pick(['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  if (chance(0.1)) path = chance(0.5) ? `${path}${pick(NASTY)}${id()}` : path.replace(/[a-z]/, pick(NASTY));
  if (chance(0.15))
    headers['content-type'] = pick([
      'text/plain',
      'application/xml',
      'application/json; charset=latin1',
      'multipart/form-data',
      'application/json-patch+json',
      '*/*',
    ]);
  if (chance(0.1)) headers['if-match'] = pick(['"1"', '*', 'W/"1"', '"x"', 'garbage', '"1", "2"', '""']);
  if (chance(0.05)) headers['if-none-match'] = pick(['*', '"1"', 'nope']);
  if (chance(0.02)) headers['x-padding'] = 'p'.repeat(8000);
  if (typeof body === 'string' && chance(0.35)) body = mutate(body);
  if (chance(0.05)) body = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0xc3, 0x28]);
  if (chance(0.02)) body = JSON.stringify({ value: 'z'.repeat(1024 * 1024 + 10) });
  if (chance(0.05) && body === undefined) {
    body = JSON.stringify(validBody('PUT', path));
    headers['content-type'] = 'application/json';
  }
  // Frame every body: an unframed one (a GET body without Content-Length) would be garbage on the wire,
  // which the raw-bytes case below covers on purpose.
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return { method, path, headers, body };
}

interface Outcome {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

function send(base: URL, agent: Agent, planned: Planned): Promise<Outcome | undefined> {
  return new Promise((resolve, reject) => {
    let req: ReturnType<typeof request>;
    try {
      req = request(
        {
          host: base.hostname,
          port: base.port,
          method: planned.method,
          path: planned.path,
          headers: planned.headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
    } catch {
      // The client itself refused the request (an invalid path or header): nothing was sent.
      resolve(undefined);
      return;
    }
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close a connection after refusing a request (oversized body): that is an answer too.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(undefined);
      else
        reject(
          new Error(
            `${error.message} (${error.code}) after ${planned.method} ${planned.path.slice(0, 80)} ${JSON.stringify(planned.headers).slice(0, 200)} body ${String(planned.body).slice(0, 100)} (${planned.body?.length ?? 0} bytes)`,
          ),
        );
    });
    if (planned.body !== undefined) req.write(planned.body);
    req.end();
  });
}

/** Bytes that are not valid HTTP, straight onto a socket; the answer must still not be a 5xx. */
function sendRaw(base: URL, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let answer = '';
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.setTimeout(2000, () => socket.destroy());
    socket.write(bytes);
    socket.end();
  });
}

const RAW = [
  'GARBAGE\r\n\r\n',
  'GET\r\n\r\n',
  'GET / HTTP/9.9\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
  'POST /v1/commit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
  'POST /v1/commit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
  `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'GET /health HTTP/1.1\r\nBad Header\r\n\r\n',
  '\u0000\u0001\u0002\r\n\r\n',
  `PUT /v1/docs/fuzz/raw HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"value":`,
];

describe('fuzzing a running server', () => {
  let server: TestServer;
  let base: URL;
  beforeAll(async () => {
    server = await startTestServer();
    base = new URL(await server.listen());
  });
  afterAll(() => server.close());

  it(`answers ${REQUESTS} random and mutated requests without a 5xx (seed ${SEED})`, {
    timeout: 60_000,
  }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        next++;
        const planned = plan();
        const outcome = await send(base, agent, planned);
        if (outcome === undefined) continue;
        sent++;
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        const where = `${planned.method} ${planned.path.slice(0, 80)}`;
        if (outcome.status >= 500)
          failures.push(`${where} → ${outcome.status} ${outcome.body.slice(0, 200)}`);
        if (
          outcome.status >= 400 &&
          planned.method !== 'HEAD' &&
          !outcome.contentType.startsWith('application/problem+json')
        )
          failures.push(`${where} → ${outcome.status} as ${outcome.contentType}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThan(REQUESTS * 0.9);
    // The mix reached both the success paths and the refusal paths.
    expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
  });

  it(`answers ${RAW_REQUESTS} non-HTTP byte streams without a 5xx`, async () => {
    const answers: string[] = [];
    for (let i = 0; i < RAW_REQUESTS; i += CONCURRENCY) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, j) => {
            const template = RAW[(i + j) % RAW.length] as string;
            const bytes = chance(0.5) ? template : mutate(template);
            return sendRaw(base, bytes);
          }),
        )),
      );
    }
    const fiveHundreds = answers.filter((answer) => /^HTTP\/1\.1 5\d\d/.test(answer));
    expect(fiveHundreds).toEqual([]);
    const problems = answers.filter((answer) => /^HTTP\/1\.1 4\d\d/.test(answer));
    expect(problems.length).toBeGreaterThan(0);
    for (const answer of problems) expect(answer.toLowerCase()).toContain('application/problem+json');
  });

  it('is still alive and consistent afterwards', async () => {
    const health = await fetch(new URL('/health', base));
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    const put = await fetch(new URL('/v1/docs/fuzz/after', base), {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { ok: true } }),
    });
    expect(put.status).toBeLessThan(300);
    expect(server.savepoint.store.pendingCommits).toBe(0);
  });
});
