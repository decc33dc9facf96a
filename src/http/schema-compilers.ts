/**
 * The compilers a server checks requests and writes responses with, compiling each route's schema
 * on the route's first use instead of at start. Compiling the checks and serializers of every
 * route was most of a server's start time (fast-json-stringify and its Ajv above all), while a
 * freshly started server usually answers a few routes first: `/health`, then the game routes.
 *
 * What is compiled is exactly what Fastify would compile at start: requests are checked by
 * {@link typeBoxValidatorCompiler}, and responses are written by Fastify's own fast-json-stringify
 * compiler with the same shared schemas and options, only later. {@link compileRouteSchemas}
 * compiles whatever is left, so a test can still prove that every route's schemas compile.
 */
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import { compileValidator, typeBoxValidatorCompiler } from './validation.js';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type Serialize = (data: unknown) => string;

/** Fastify's default serializer compiler, which this one only defers. */
const compileSerializerNow = SerializerSelector();

/**
 * Serializers compiled in this process, by their schema's text and the server's shared schemas and
 * options: servers built one after another in one process (tests build hundreds) compile each
 * response schema once. fast-json-stringify's output depends on nothing else.
 */
const serializers = new Map<string, Serialize>();

export interface SchemaCompilers {
  /**
   * The server option `schemaController`. Both compilers are given here rather than set on the
   * instance, so that Fastify does not load its default Ajv compiler only to replace it.
   */
  readonly schemaController: {
    readonly compilersFactory: {
      readonly buildValidator: ValidatorFactory;
      readonly buildSerializer: SerializerFactory;
    };
  };
  /** Compiles every schema not compiled yet; returns how many schemas the server has. */
  compileAll(): number;
}

/** One server's compilers. */
export function createSchemaCompilers(): SchemaCompilers {
  const compileNow = new Set<() => void>();

  const validatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
    const validate = typeBoxValidatorCompiler(route);
    // typeBoxValidatorCompiler has refused anything but a TypeBox schema.
    compileNow.add(() => compileValidator(route.schema as TSchema));
    return validate;
  };

  const buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const context = JSON.stringify([externalSchemas ?? null, options ?? null]);
    const compile = compileSerializerNow(externalSchemas, options);
    return (route) => {
      // The schema as it is at registration: a later change (by the OpenAPI generator, say) must
      // not reach the serializer compiled on the first answer.
      const text = JSON.stringify(route.schema);
      const key = `${context}\n${text}`;
      let serialize = serializers.get(key);
      const ensure = (): Serialize => {
        if (serialize !== undefined) return serialize;
        serialize = serializers.get(key) ?? compile({ ...route, schema: JSON.parse(text) });
        serializers.set(key, serialize);
        return serialize;
      };
      compileNow.add(ensure);
      return serialize ?? ((data: unknown) => ensure()(data));
    };
  };

  return {
    schemaController: {
      compilersFactory: {
        // Fastify types this factory after Ajv's, but calls what it returns as it calls any
        // validator compiler (the one `setValidatorCompiler` takes): `{ value }` or `{ error }`.
        buildValidator: (() => validatorCompiler) as unknown as ValidatorFactory,
        buildSerializer,
      },
    },
    compileAll() {
      for (const compile of compileNow) compile();
      return compileNow.size;
    },
  };
}

const compilersOfServer = new WeakMap<FastifyInstance, SchemaCompilers>();

/** Records which compilers `app` was built with, for {@link compileRouteSchemas}. */
export function trackSchemaCompilers(app: FastifyInstance, compilers: SchemaCompilers): void {
  compilersOfServer.set(app, compilers);
}

/**
 * Compiles every route schema of a ready server that no request has needed yet, throwing what
 * compiling it at start would have thrown; returns how many schemas the server has.
 */
export function compileRouteSchemas(app: FastifyInstance): number {
  const compilers = compilersOfServer.get(app);
  if (compilers === undefined) throw new Error('This server was not built with createSchemaCompilers');
  return compilers.compileAll();
}
