/**
 * The request validator (src/http/validation.ts) checks what JSON Schema says: lengths in
 * characters (code points), and a documented rule the handler checks (`validatedAs`) left to it.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { typeBoxValidatorCompiler } from '../../src/http/validation.js';
import { RequestValidationError } from '../../src/http-kit/problem.js';
import { OPTIONAL_BODY } from '../../src/http-kit/schema-keywords.js';
import { validatedAs } from '../../src/http-kit/validated-schema.js';

function validator(schema: TSchema, httpPart = 'body') {
  const validate = typeBoxValidatorCompiler({ schema, method: 'POST', url: '/test', httpPart });
  return (data: unknown) => {
    const result = validate(data) as { value?: unknown; error?: unknown };
    if (result.error === undefined) return { ok: true, value: result.value, messages: [] };
    if (!(result.error instanceof RequestValidationError)) throw result.error;
    return { ok: false, value: undefined, messages: result.error.issues.map((issue) => issue.message) };
  };
}

describe('request validation', () => {
  it('counts a length in characters: an emoji is one, not two UTF-16 units', () => {
    const check = validator(Type.Object({ name: Type.String({ minLength: 2, maxLength: 20 }) }));
    expect(check({ name: '😀'.repeat(11) }).ok).toBe(true);
    expect(check({ name: '😀'.repeat(20) }).ok).toBe(true);
    expect(check({ name: '😀'.repeat(21) }).messages).toEqual(['expected at most 20 characters, got 21']);
    expect(check({ name: '😀' }).messages).toEqual(['expected at least 2 characters, got 1']);
    expect(check({ name: 'ab' }).ok).toBe(true);
    // A lone surrogate counts as one character, as JSON Schema validators count it.
    expect(check({ name: '\ud800'.repeat(20) }).ok).toBe(true);
  });

  it('keeps every other rule of a bounded string, with its own message', () => {
    const check = validator(
      Type.Object({
        id: Type.String({ maxLength: 5, pattern: '^[a-z]+$', 'x-error-message': 'lowercase, please' }),
      }),
    );
    expect(check({ id: 'abc' }).ok).toBe(true);
    expect(check({ id: 'ABC' }).messages).toEqual(['lowercase, please']);
    expect(check({ id: 'abcdef' }).messages).toEqual(['lowercase, please']);
    expect(check({ id: 3 }).messages).toEqual(['lowercase, please']);
    const plain = validator(Type.Object({ id: Type.String({ maxLength: 5, pattern: '^[a-z]+$' }) }));
    expect(plain({ id: 'ABC' }).messages).toEqual(["expected string to match '^[a-z]+$'"]);
    expect(plain({ id: 3 }).messages).toEqual(['expected string']);
  });

  it('counts characters inside arrays, records and unions too', () => {
    const check = validator(
      Type.Object({
        list: Type.Array(Type.String({ maxLength: 2 })),
        either: Type.Union([Type.String({ maxLength: 2 }), Type.Null()]),
      }),
    );
    expect(check({ list: ['😀😀'], either: '😀😀' }).ok).toBe(true);
    expect(check({ list: ['😀😀😀'], either: null }).ok).toBe(false);
    expect(check({ list: [], either: '😀😀😀' }).ok).toBe(false);
  });

  it('leaves a rule marked validatedAs to the handler, and converts by the validated type', () => {
    const check = validator(
      Type.Object({ slot: validatedAs(Type.Integer({ minimum: 1, maximum: 3 }), Type.String()) }),
      'params',
    );
    expect(check({ slot: '7' })).toEqual({ ok: true, value: { slot: '7' }, messages: [] });
    expect(check({ slot: 'x' }).ok).toBe(true);
  });

  it('lets an optional body be left out or sent as null, and checks it when given', () => {
    const check = validator(
      Type.Union([Type.Object({ n: Type.Integer() }, { additionalProperties: false }), Type.Null()], {
        [OPTIONAL_BODY]: true,
      }),
    );
    expect(check(undefined).ok).toBe(true);
    expect(check(null).ok).toBe(true);
    expect(check({ n: 1 }).ok).toBe(true);
    expect(check({ n: 'one' }).ok).toBe(false);
    expect(check({ other: 1 }).ok).toBe(false);
  });

  it('names the maximum when an integer is beyond 2^53 - 1', () => {
    const check = validator(
      Type.Object({
        v: Type.Integer({
          minimum: 1,
          maximum: Number.MAX_SAFE_INTEGER,
          'x-error-message': `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}`,
        }),
      }),
      'querystring',
    );
    expect(check({ v: '9007199254740991' }).ok).toBe(true);
    expect(check({ v: '9007199254740992' }).messages).toEqual([
      'must be an integer from 1 to 9007199254740991',
    ]);
    expect(check({ v: '90071992547409920' }).messages).toEqual([
      'must be an integer from 1 to 9007199254740991',
    ]);
  });
});
