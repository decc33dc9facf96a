/**
 * Request validation with TypeBox's compiler instead of Fastify's default Ajv instance, because
 * Fastify's Ajv applies one policy to every part of a request: type coercion and silent removal of
 * unknown properties would then apply to bodies too, turning `"upsert": "true"` into `true` and
 * dropping misspelt fields without a word. Here bodies are checked strictly, while query strings,
 * path parameters and headers (always strings on the wire) are converted to the schema's types first.
 *
 * Route schemas must be TypeBox schemas; a plain JSON schema fails at registration with a clear error.
 * What is compiled is the schema `forValidation` derives from the route's (validated-schema.ts), so
 * lengths count characters as the published description says.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { codePointLength } from '../engine/text.js';
import { type FieldIssue, RequestValidationError } from '../http-kit/problem.js';
import { ERROR_MESSAGE, OPTIONAL_BODY } from '../http-kit/schema-keywords.js';
import {
  CODE_POINT_STRING,
  type CodePointString,
  forValidation,
  otherRulesOf,
} from '../http-kit/validated-schema.js';

/** Most field problems listed in one answer. */
const MAX_ISSUES = 10;

function isTypeBoxSchema(schema: unknown): schema is TSchema {
  return typeof schema === 'object' && schema !== null && Kind in schema;
}

/** Why a string failed a schema whose length bounds count code points (see validated-schema.ts). */
function codePointStringMessage(schema: CodePointString, value: unknown): string {
  if (typeof value !== 'string') return 'Expected string';
  const other = otherRulesOf(schema).Errors(value).First();
  if (other !== undefined) return other.message;
  const length = codePointLength(value);
  if (schema.maxLength !== undefined && length > schema.maxLength)
    return `Expected at most ${schema.maxLength} characters, got ${length}`;
  return `Expected at least ${schema.minLength} characters, got ${length}`;
}

function messageOf(error: ValueError): string {
  const custom = (error.schema as Record<string, unknown>)[ERROR_MESSAGE];
  if (typeof custom === 'string') return custom;
  if (error.type === ValueErrorType.Kind && error.schema[Kind] === CODE_POINT_STRING)
    return lowerFirst(codePointStringMessage(error.schema as CodePointString, error.value));
  if (error.message === 'Unexpected property') return 'is not a known field';
  if (error.message === 'Expected required property') return 'is required';
  return lowerFirst(error.message);
}

function lowerFirst(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * TypeBox reports a failed union as one "Expected union value". For a tagged union such as
 * commit ops (`op: "put" | "patch" | "delete"`) the variant whose literal fields match the value
 * is the one the caller meant, so its own errors are reported instead.
 */
function explainUnion(error: ValueError): ValueError[] | undefined {
  const variants = (error.schema as { anyOf?: unknown }).anyOf;
  if (!Array.isArray(variants) || !isObject(error.value)) return undefined;
  const value = error.value;
  const tags: string[] = [];
  for (const variant of variants as TSchema[]) {
    const properties = (variant as { properties?: Record<string, TSchema> }).properties;
    if (properties === undefined) continue;
    const literals = Object.entries(properties).filter(([, schema]) => 'const' in schema);
    if (literals.length === 0) continue;
    tags.push(...literals.map(([name, schema]) => `${name}: ${JSON.stringify(schema.const)}`));
    if (literals.every(([name, schema]) => value[name] === schema.const)) {
      return [...TypeCompiler.Compile(variant).Errors(value)].map((inner) => ({
        ...inner,
        path: `${error.path}${inner.path}`,
      }));
    }
  }
  if (tags.length === 0) return undefined;
  return [{ ...error, message: `Expected one of ${tags.join(', ')}` }];
}

function issuesOf(check: TypeCheck<TSchema>, value: unknown, part: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const raw of check.Errors(value)) {
    for (const error of explainUnion(raw) ?? [raw]) {
      // TypeBox may report one field several times (type, then format); the first reason is enough.
      if (seen.has(error.path)) continue;
      seen.add(error.path);
      issues.push({ in: part, path: error.path, message: messageOf(error) });
    }
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues.length > 0 ? issues : [{ in: part, path: '', message: 'is invalid' }];
}

const INTEGER = /^-?\d{1,16}$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * Converts one string from a query, path or header to the type its schema names, strictly: `"1.5"`
 * stays a string for an integer (and then fails validation) instead of being truncated to 1.
 */
function convertString(schema: TSchema, raw: string): unknown {
  switch (schema.type) {
    case 'integer':
      return INTEGER.test(raw) ? Number(raw) : raw;
    case 'number':
      return NUMBER.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

/** Query strings, path parameters and headers are flat objects of strings (or arrays of them). */
function convertFlat(schema: TSchema, data: unknown): unknown {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (properties === undefined || !isObject(data)) return data;
  const converted: Record<string, unknown> = { ...data };
  for (const [name, property] of Object.entries(properties)) {
    const raw = converted[name];
    if (typeof raw === 'string') converted[name] = convertString(property, raw);
  }
  return converted;
}

/** A route schema as the validator checks it, with its compiled check once a request has needed it. */
interface PreparedSchema {
  readonly validated: TSchema;
  check?: TypeCheck<TSchema>;
}

/**
 * Prepared schemas by the declared schema object. Route schemas are module constants, so servers
 * built one after another in one process (tests build hundreds) compile each of them once.
 */
const prepared = new WeakMap<TSchema, PreparedSchema>();

function prepare(schema: TSchema): PreparedSchema {
  let entry = prepared.get(schema);
  if (entry === undefined) {
    entry = { validated: forValidation(schema) };
    prepared.set(schema, entry);
  }
  return entry;
}

/**
 * Fastify's validator compiler for TypeBox schemas. Install with `app.setValidatorCompiler(...)`.
 * A failure is a {@link RequestValidationError}: `400 INVALID_INPUT` naming the field.
 *
 * The schema is checked and copied when the route is registered, but compiled on the route's first
 * request: compiling every route's checks at start was most of a server's start time. The first
 * request to a route pays its compilation, a millisecond or a few.
 */
export const typeBoxValidatorCompiler: FastifySchemaCompiler<unknown> = ({
  schema,
  method,
  url,
  httpPart,
}) => {
  if (!isTypeBoxSchema(schema)) {
    throw new Error(`The ${httpPart ?? 'request'} schema of ${method} ${url} must be a TypeBox schema`);
  }
  const entry = prepare(schema);
  const validated = entry.validated;
  const part = httpPart ?? 'body';
  const convert = part !== 'body';
  const optional = part === 'body' && (schema as Record<string, unknown>)[OPTIONAL_BODY] === true;
  let check = entry.check;
  return (data: unknown) => {
    if (optional && (data === undefined || data === null)) return { value: data };
    const value = convert ? convertFlat(validated, data) : data;
    check ??= compiledCheck(entry);
    if (check.Check(value)) return { value };
    return { error: new RequestValidationError(issuesOf(check, value, part)) };
  };
};

function compiledCheck(entry: PreparedSchema): TypeCheck<TSchema> {
  entry.check ??= TypeCompiler.Compile(entry.validated);
  return entry.check;
}

/**
 * Compiles now the check {@link typeBoxValidatorCompiler} compiles on a route's first request, so
 * that a broken schema can be found without calling its route.
 */
export function compileValidator(schema: TSchema): TypeCheck<TSchema> {
  return compiledCheck(prepare(schema));
}
