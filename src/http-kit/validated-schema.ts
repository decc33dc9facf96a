/**
 * The schema the request validator compiles, derived from the schema a route declares (and
 * OpenAPI documents). Two differences, both so that the server checks exactly what the
 * description says:
 *
 * - **Lengths count characters.** JSON Schema counts `minLength`/`maxLength` in Unicode code
 *   points, while TypeBox's compiler counts UTF-16 units, so 11 emoji (22 units) would fail a
 *   `maxLength: 20`. Every bounded string is checked here by a kind that counts code points.
 * - **Some rules are the handler's.** A schema marked with {@link validatedAs} documents a rule
 *   that its module checks (to answer a more specific code, such as `400 OUT_OF_BOUNDS`, with
 *   details); the validator checks the looser schema given there instead.
 */
import { Kind, type TSchema, TypeRegistry } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { codePointLength } from '../engine/text.js';

/** The kind of a string schema whose length bounds count code points. */
export const CODE_POINT_STRING = 'SavepointCodePointString';

/** A schema option: the schema the validator uses in place of the documented one. */
const VALIDATED_AS = Symbol.for('savepoint.validatedAs');

/** A string schema with bounded length, as the validator sees it. */
export interface CodePointString extends TSchema {
  readonly [Kind]: typeof CODE_POINT_STRING;
  readonly minLength?: number;
  readonly maxLength?: number;
}

/**
 * The rest of each bounded string's schema (type, pattern, format…), compiled on its first check:
 * a server starts without compiling the rules of routes nobody has called yet.
 */
const otherRules = new WeakMap<object, { readonly rest: TSchema; check?: TypeCheck<TSchema> }>();

/** Whether a string's length in code points lies within the bounds (without counting when the UTF-16 length decides). */
export function withinLength(
  text: string,
  minLength: number | undefined,
  maxLength: number | undefined,
): boolean {
  // A code point is one or two UTF-16 units: the unit count bounds the code point count from above.
  if (minLength !== undefined && (text.length < minLength || codePointLength(text) < minLength)) return false;
  if (maxLength !== undefined && text.length > maxLength && codePointLength(text) > maxLength) return false;
  return true;
}

/** The schema a bounded string's other rules are checked with. */
export function otherRulesOf(schema: CodePointString): TypeCheck<TSchema> {
  const rules = otherRules.get(schema);
  if (rules === undefined) throw new Error('A code point string schema was not built by forValidation');
  rules.check ??= TypeCompiler.Compile(rules.rest);
  return rules.check;
}

TypeRegistry.Set<CodePointString>(
  CODE_POINT_STRING,
  (schema, value) =>
    typeof value === 'string' &&
    withinLength(value, schema.minLength, schema.maxLength) &&
    otherRulesOf(schema).Check(value),
);

/**
 * Marks `documented` (what OpenAPI shows) as checked by the handler: the request validator checks
 * `validated` instead. Use it only where the module enforces the documented rule itself, and type
 * the route with `validated`'s static type (the value the handler receives).
 */
export function validatedAs<Validated extends TSchema>(documented: TSchema, validated: Validated): Validated {
  return { ...documented, [VALIDATED_AS]: validated } as unknown as Validated;
}

function isRecord(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Keywords whose values are data, not schemas. */
const DATA_KEYWORDS = new Set<PropertyKey>(['const', 'default', 'enum', 'example', 'examples']);

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!isRecord(node)) return node;
  const validated = node[VALIDATED_AS];
  if (isRecord(validated)) return rewrite(validated);
  const copy: Record<PropertyKey, unknown> = {};
  for (const key of Reflect.ownKeys(node)) {
    copy[key] = DATA_KEYWORDS.has(key) ? node[key] : rewrite(node[key]);
  }
  if (copy[Kind] !== 'String' || (copy.minLength === undefined && copy.maxLength === undefined)) return copy;
  const { minLength, maxLength, ...rest } = copy;
  const bounded = { ...rest, [Kind]: CODE_POINT_STRING, minLength, maxLength };
  otherRules.set(bounded, { rest: rest as unknown as TSchema });
  return bounded;
}

/** The schema the validator compiles for a declared route schema; the declared one is left as it is. */
export function forValidation(schema: TSchema): TSchema {
  return rewrite(schema) as TSchema;
}
