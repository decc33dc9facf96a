/**
 * Writes docs/api.md, the HTTP API reference, from the OpenAPI description the server builds from
 * its route schemas (`GET /openapi.json`), so the reference cannot drift from what the server
 * checks. `npm run docs:api` rewrites the file; test/docs/api-reference.test.ts fails when it is
 * stale. The prose around the generated parts lives here, in SECTIONS and the preamble.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { errorTableMarkdown } from '../src/http/openapi.js';
import { buildServer } from '../src/http/server.js';
import { openSavepoint } from '../src/savepoint.js';

export const API_REFERENCE_PATH = fileURLToPath(new URL('../docs/api.md', import.meta.url));

interface Schema {
  readonly type?: string;
  readonly $ref?: string;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: boolean | Schema;
  readonly required?: readonly string[];
  readonly description?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  /** OpenAPI 3.0's way of saying `| null`. */
  readonly nullable?: boolean;
}
interface Parameter {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: Schema;
}
interface MediaType {
  readonly schema?: Schema;
}
interface Answer {
  readonly description?: string;
  readonly content?: Readonly<Record<string, MediaType>>;
}
interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly security?: readonly Readonly<Record<string, unknown>>[];
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Readonly<Record<string, MediaType>>;
  };
  readonly responses?: Readonly<Record<string, Answer>>;
}
export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
}

interface Route {
  readonly method: string;
  readonly path: string;
  readonly operation: Operation;
}

interface Section {
  readonly title: string;
  /** Said before the section's routes: what the module is for and where to read more. */
  readonly intro: string;
  readonly holds: (route: Route) => boolean;
}

const tagged = (tag: string) => (route: Route) => route.operation.tags?.includes(tag) === true;
const isHistory = (route: Route) => /^\/api\/game\/\{gameId\}\/(history|rollback|fork)$/.test(route.path);
const isCatalogVersions = (route: Route) => route.path.startsWith('/v1/catalog-versions/');

/** The route sections, in order; their titles are the anchors comments link to (`docs/api.md#games`). */
const SECTIONS: readonly Section[] = [
  {
    title: 'Documents',
    intro:
      'JSON documents in collections, for data that has no module of its own: versioned writes, patch operators, expiry and all-or-nothing commits. A walk-through: [http-quickstart.md](http-quickstart.md).',
    holds: tagged('documents'),
  },
  {
    title: 'Games',
    intro:
      'A game server persists its snapshot and events here, hands players reconnect tokens, and a player who drops reclaims the seat with the events missed. The library side: [README](../README.md#from-a-node-game-server).',
    holds: (route) => tagged('games')(route) && !isHistory(route),
  },
  {
    title: 'Game history',
    intro:
      'Every version of a game is kept (within its retention): list them, read one (`GET /api/game/{gameId}/restore?version=N`), roll back to one or fork a new game from one. How it is stored and pruned: [time-travel.md](time-travel.md#game-history).',
    holds: isHistory,
  },
  { title: 'Sessions', intro: 'Player sessions: state, status and expiry.', holds: tagged('sessions') },
  {
    title: 'Stats',
    intro: 'Aggregate statistics of finished games, updated atomically per game.',
    holds: tagged('stats'),
  },
  {
    title: 'Rankings',
    intro:
      'The Q-table: one number per (state, move), within `SAVEPOINT_RANKING_MIN`..`SAVEPOINT_RANKING_MAX`.',
    holds: tagged('rankings'),
  },
  {
    title: 'Matches',
    intro: 'Matches with rounds, per-player scores, completion and analytics samples.',
    holds: tagged('matches'),
  },
  {
    title: 'Players',
    intro: "A player's lifetime statistics (fed by completed matches) and trophies.",
    holds: tagged('players'),
  },
  {
    title: 'Leaderboards',
    intro: "Ranked boards, all-time or by period, with a member's rank and neighbours.",
    holds: tagged('leaderboards'),
  },
  {
    title: 'Catalog',
    intro:
      'Game constants (items, levels…) loaded from seed files, read by anyone (public reads) and cached by clients by version.',
    holds: (route) => tagged('catalog')(route) && !isCatalogVersions(route),
  },
  {
    title: 'Catalog versions',
    intro:
      'Every catalog load is a version: list them, diff two, roll back to an older one. See [time-travel.md](time-travel.md#catalog-versions).',
    holds: isCatalogVersions,
  },
  {
    title: 'Saves',
    intro: 'Numbered save slots per player, `1`..`SAVEPOINT_SAVE_SLOTS`.',
    holds: tagged('saves'),
  },
  {
    title: 'Leases',
    intro: 'Named leases with an owner and an expiry, for one-holder-at-a-time work across instances.',
    holds: tagged('leases'),
  },
  {
    title: 'Operations',
    intro:
      'Health, metrics and the admin calls (sweep, integrity check, backup, audit log). The admin calls need the API key.',
    holds: tagged('operations'),
  },
];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const cell = (text: string): string =>
  prose(text)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A short type for a table cell: `integer ≥ 1`, `"active" \| "completed"`, `array of string`. */
function typeOf(schema: Schema): string {
  const type = baseTypeOf(schema);
  return schema.nullable === true ? `${type} | \`null\`` : type;
}

function baseTypeOf(schema: Schema): string {
  if (schema.$ref !== undefined) return schema.$ref.replace(/^#\/components\/schemas\//, '');
  if (schema.enum !== undefined)
    return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' | ');
  if (schema.anyOf !== undefined) return [...new Set(schema.anyOf.map(typeOf))].join(' | ');
  switch (schema.type) {
    case 'array':
      return `array of ${schema.items === undefined ? 'any JSON' : typeOf(schema.items)}`;
    case 'integer':
    case 'number': {
      const { minimum, maximum } = schema;
      const upper = maximum !== undefined && maximum !== MAX_SAFE ? maximum : undefined;
      if (minimum !== undefined && upper !== undefined) return `${schema.type} ${minimum}–${upper}`;
      if (minimum !== undefined) return `${schema.type} ≥ ${minimum}`;
      if (upper !== undefined) return `${schema.type} ≤ ${upper}`;
      return schema.type;
    }
    case 'string':
      return schema.format === 'date-time' ? 'time' : 'string';
    case 'null':
      return '`null`';
    case undefined:
      return 'any JSON';
    default:
      return schema.type;
  }
}

interface FieldRow {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

/** The fields of an object schema, nested ones as `a.b` and array items as `a[].b`, three levels deep. */
function fieldsOf(schema: Schema, prefix = '', depth = 0): FieldRow[] {
  if (depth > 2) return [];
  const variants = schema.anyOf?.filter((variant) => variant.properties !== undefined) ?? [];
  if (variants.length > 1) return variants.flatMap((variant) => fieldsOf(variant, prefix, depth));
  const required = new Set(schema.required ?? []);
  const rows: FieldRow[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({
      name: path,
      type: typeOf(field),
      required: required.has(name),
      description: field.description ?? '',
    });
    const inner = field.type === 'array' ? field.items : field;
    if (inner?.properties !== undefined || inner?.anyOf?.some((variant) => variant.properties !== undefined))
      rows.push(...fieldsOf(inner, field.type === 'array' ? `${path}[].` : `${path}.`, depth + 1));
  }
  return rows;
}

function fieldTable(rows: readonly FieldRow[]): string[] {
  return [
    '| field | type | required | meaning |',
    '|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| \`${row.name}\` | ${cell(row.type)} | ${row.required ? 'yes' : ''} | ${cell(row.description)} |`,
    ),
  ];
}

/** Whether the API key is needed, per the route's OpenAPI security (`{}` in the list: none needed). */
function authOf(operation: Operation): string {
  const security = operation.security;
  if (security === undefined || security.length === 0)
    return 'API key: none (the request carries its own credential).';
  if (security.some((requirement) => Object.keys(requirement).length === 0))
    return 'API key: optional (see [Authentication](#authentication)).';
  return 'API key: required.';
}

/**
 * Prose for Markdown: `<` and `>` outside code spans are escaped, or `"<version>"` would read as
 * an HTML tag and vanish.
 */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

/** The `Idempotency-Key` header every write takes is described once, in its own section. */
const isIdempotencyKey = (parameter: Parameter) =>
  parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key';

function renderRoute(route: Route): string[] {
  const { method, path, operation } = route;
  const lines = [`### ${method.toUpperCase()} ${path}`, ''];
  if (operation.summary !== undefined) lines.push(`**${operation.summary}.**`, '');
  if (operation.description !== undefined) lines.push(prose(operation.description), '');
  lines.push(authOf(operation), '');

  const parameters = (operation.parameters ?? []).filter((parameter) => !isIdempotencyKey(parameter));
  if (parameters.length > 0) {
    lines.push(
      '| parameter | in | type | required | meaning |',
      '|---|---|---|---|---|',
      ...parameters.map(
        (p) =>
          `| \`${p.name}\` | ${p.in} | ${cell(p.schema === undefined ? '' : typeOf(p.schema))} | ${p.required === true ? 'yes' : ''} | ${cell(p.description ?? p.schema?.description ?? '')} |`,
      ),
      '',
    );
  }

  const body = operation.requestBody?.content?.['application/json']?.schema;
  if (body !== undefined) {
    const rows = fieldsOf(body);
    const optional = operation.requestBody?.required === false ? ' (optional)' : '';
    lines.push(`Body${optional}:`, '');
    if (rows.length > 0) lines.push(...fieldTable(rows), '');
    else lines.push(`${typeOf(body)}${body.description === undefined ? '' : `: ${body.description}`}`, '');
  }

  const answers = Object.entries(operation.responses ?? {});
  const isProblem = (status: string) => /^[45]/.test(status);
  for (const [status, answer] of answers.filter(([code]) => !isProblem(code))) {
    const [contentType, media] = Object.entries(answer.content ?? {})[0] ?? [];
    const rows = media?.schema === undefined ? [] : fieldsOf(media.schema);
    const described = answer.description !== undefined && answer.description !== 'Default Response';
    const about = described ? `: ${prose(answer.description ?? '')}` : '';
    if (rows.length > 0)
      lines.push(`Answer \`${status}\`${about === '' ? ':' : about}`, '', ...fieldTable(rows), '');
    else if (contentType !== undefined && contentType !== 'application/json') {
      const schemaText = media?.schema?.description;
      lines.push(
        `Answer \`${status}\` (\`${contentType}\`)${about}${schemaText === undefined ? '' : `. ${prose(schemaText)}`}`,
        '',
      );
    } else lines.push(`Answer \`${status}\`${about === '' ? ' with no body' : about}.`, '');
  }
  const problems = answers.filter(([code]) => isProblem(code)).map(([code]) => code);
  if (problems.length > 0)
    lines.push(`Errors: ${problems.map((code) => `\`${code}\``).join(', ')} ([errors](#errors)).`, '');
  return lines;
}

/** The part of the server's own API description before the error table: authentication, versions, limits. */
function conventionsOf(description: string): string[] {
  const paragraphs = description.split('\n\n').map((paragraph) => paragraph.trim());
  const conventions: string[] = [];
  for (const paragraph of paragraphs) {
    const match = /^(Authentication|Versions|Limits): ([\s\S]*)$/.exec(paragraph);
    if (match?.[1] !== undefined && match[2] !== undefined)
      conventions.push(`### ${match[1]}`, '', `${match[2].charAt(0).toUpperCase()}${match[2].slice(1)}`, '');
  }
  if (conventions.length === 0)
    throw new Error('The API description lost its Authentication/Versions/Limits paragraphs');
  return conventions;
}

/** Renders the whole reference from an OpenAPI document and its description text. */
export function renderApiReference(document: OpenApiDocument, description: string): string {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) routes.push({ method, path, operation });
  }
  const bySection = new Map<Section, Route[]>(SECTIONS.map((section) => [section, []]));
  for (const route of routes) {
    const section = SECTIONS.find((candidate) => candidate.holds(route));
    if (section === undefined)
      throw new Error(
        `${route.method.toUpperCase()} ${route.path} (tags ${route.operation.tags?.join(', ') ?? 'none'}) belongs to no section of scripts/api-reference.ts`,
      );
    bySection.get(section)?.push(route);
  }

  const contents = [
    'Conventions',
    'Errors',
    'Idempotency',
    'Live-store protection',
    ...SECTIONS.map((section) => section.title),
    'Console',
  ].map((title) => `- [${title}](#${anchorOf(title)})`);

  const lines = [
    '# HTTP API reference',
    '',
    '<!-- Generated by `npm run docs:api` from the OpenAPI description the server builds from its route schemas (scripts/api-reference.ts); edit those, not this file. -->',
    '',
    'Every route the server (`savepoint serve`) answers, with its parameters, body fields, answers and error statuses. The same description, machine-readable, is served at `GET /openapi.json`, and browsable at `GET /docs`. A first walk-through: [http-quickstart.md](http-quickstart.md); the typed client for Node and browsers is `savepoint/client`, the Python one [python.md](python.md).',
    '',
    ...contents,
    '',
    '## Conventions',
    '',
    ...conventionsOf(description),
    '### Times and durations',
    '',
    'Times are ISO-8601 UTC strings (`2025-01-31T12:00:00.000Z`). Durations (`ttl` fields, settings) are strings such as `500ms`, `30s`, `30m`, `7d` or `1h30m`.',
    '',
    '## Errors',
    '',
    'Every error answer is an `application/problem+json` document `{ type, title, status, code, detail }`, with `errors: [{ in, path, message }]` for field problems. Branch on `code`: it is stable, the `detail` is for people. `STORAGE_UNAVAILABLE` answers carry `Retry-After`. Each route below lists the statuses it may answer; what each code means, with examples: [errors.md](errors.md).',
    '',
    errorTableMarkdown(),
    '',
    '## Idempotency',
    '',
    'Every `POST`, `PUT`, `PATCH` and `DELETE` takes an `Idempotency-Key` header: a retry with the same key and the same request gets the first answer again (with `Idempotent-Replayed: true`) and applies nothing; the same key with a different request answers `422 IDEMPOTENCY_KEY_REUSED`, and a retry while the first is still running `409 IDEMPOTENCY_IN_FLIGHT`. Why a crash can neither double nor lose a keyed write: [http-idempotency.md](http-idempotency.md).',
    '',
    '## Live-store protection',
    '',
    'Commands that replace a whole store (`savepoint restore`, `savepoint import --force`, `savepoint migrate --force`) refuse with `STORE_IN_USE` (409), changing nothing, while any process has the store open: a running server, a game server embedding the library or another command. Stop them first. Over HTTP, the live store is only ever copied (`POST /v1/admin/backup`), never replaced.',
    '',
  ];
  for (const section of SECTIONS) {
    lines.push(`## ${section.title}`, '', section.intro, '');
    for (const route of bySection.get(section) ?? []) lines.push(...renderRoute(route));
  }
  lines.push(
    '## Console',
    '',
    '`GET /console` serves the operator console, a browser page over this same API: it needs no key to load, and asks for the API key to call the routes above. What it shows and does: [console.md](console.md).',
    '',
  );
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** Builds a server on a memory store with the default settings and renders its description. */
export async function buildApiReference(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'savepoint-api-reference-'));
  // Default settings, whatever this shell exports: they appear in descriptions (slots, bounds, TTLs).
  const config = loadConfig({
    env: {
      SAVEPOINT_API_KEY: 'api-reference-'.padEnd(32, 'x'),
      SAVEPOINT_SWEEP_INTERVAL: '0',
      SAVEPOINT_DATA_DIR: dataDir,
    },
  });
  const savepoint = await openSavepoint({ url: 'memory:' });
  try {
    const app = await buildServer({ savepoint, config });
    try {
      // The description as clients get it: the server builds it on its first request.
      const answer = await app.inject({
        method: 'GET',
        url: '/openapi.json',
        headers: { authorization: `Bearer ${config.apiKey}` },
      });
      if (answer.statusCode !== 200)
        throw new Error(`GET /openapi.json answered ${answer.statusCode}: ${answer.body}`);
      const document = JSON.parse(answer.body) as OpenApiDocument & { info: { description: string } };
      return renderApiReference(document, document.info.description);
    } finally {
      await app.close();
    }
  } finally {
    await savepoint.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await writeFile(API_REFERENCE_PATH, await buildApiReference());
  console.log(`wrote ${API_REFERENCE_PATH}`);
}
