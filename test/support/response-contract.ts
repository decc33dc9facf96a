/**
 * Checks every answer a test server sends against the response its route declares (the schema
 * OpenAPI publishes), so that the description cannot drift from the code: an undeclared status, a
 * content type the route does not declare, or a JSON body that does not match its schema is
 * recorded as a violation.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from '../../src/http-kit/schemas.js';

export interface ResponseViolation {
  readonly route: string;
  readonly status: number;
  readonly problem: string;
}

type Schema = Record<string, unknown>;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(Problem as Schema, 'Problem');

const compiled = new WeakMap<object, ValidateFunction>();

function validatorOf(schema: Schema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The declared response for a status: exact, then `4xx`-style, then `default` (as Fastify matches them). */
function declaredFor(responses: Schema, status: number): Schema | undefined {
  const entry = responses[String(status)] ?? responses[`${String(status)[0]}xx`] ?? responses.default;
  return isSchema(entry) ? entry : undefined;
}

/** The media types a declared response names, with their schemas; a bare schema is in the route's `produces` types. */
function mediaTypesOf(declared: Schema, produces: readonly string[]): Map<string, Schema | undefined> {
  const content = declared.content;
  if (!isSchema(content)) return new Map(produces.map((type) => [type, declared]));
  return new Map(
    Object.entries(content).map(([type, media]) => [
      type,
      isSchema(media) && isSchema(media.schema) ? media.schema : undefined,
    ]),
  );
}

function mediaTypeOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  return header.split(';')[0]?.trim().toLowerCase();
}

/** What is wrong with one answer, or `undefined` when it matches its declaration. */
export function checkAnswer(
  responses: Schema,
  status: number,
  contentType: unknown,
  body: string | undefined,
  produces: readonly string[] = ['application/json'],
): string | undefined {
  const declared = declaredFor(responses, status);
  if (declared === undefined) return `status ${status} is not declared`;
  const empty = body === undefined || body.length === 0;
  if (declared.type === 'null') return empty ? undefined : 'a body where none is declared';
  if (empty && (status === 204 || status === 304)) return undefined;
  const type = mediaTypeOf(contentType);
  const media = mediaTypesOf(declared, produces);
  if (type === undefined || !media.has(type)) {
    return `content type ${String(type)} is not among the declared ${[...media.keys()].join(', ')}`;
  }
  const schema = media.get(type);
  if (schema === undefined || body === undefined || !type.endsWith('json')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'a body that is not JSON';
  }
  const validate = validatorOf(schema);
  if (validate(value)) return undefined;
  return ajv.errorsText(validate.errors, { dataVar: 'body' });
}

/**
 * Installs the check on a server that is not ready yet. Answers whose body is a stream (exports,
 * the event stream) are checked for status and content type only.
 */
export function recordResponseViolations(app: FastifyInstance): ResponseViolation[] {
  const violations: ResponseViolation[] = [];
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    try {
      checkReply(request, reply, payload, violations);
    } catch (error) {
      // The check must never change an answer; a failure of the check itself is a violation too.
      violations.push({
        route: `${request.method} ${request.url}`,
        status: reply.statusCode,
        problem: String(error),
      });
    }
    done(null, payload);
  });
  return violations;
}

function checkReply(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  violations: ResponseViolation[],
): void {
  const schema = request.routeOptions.schema;
  const responses = schema?.response;
  if (isSchema(responses)) {
    const body =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString() : undefined;
    const streamed = payload !== null && payload !== undefined && body === undefined;
    const problem = checkAnswer(
      responses,
      reply.statusCode,
      reply.getHeader('content-type'),
      streamed ? undefined : body,
      schema?.produces ?? ['application/json'],
    );
    if (problem !== undefined) {
      violations.push({
        route: `${request.method} ${request.routeOptions.url ?? request.url}`,
        status: reply.statusCode,
        problem,
      });
    }
  }
}

/** The violations as one readable message. */
export function describeViolations(violations: readonly ResponseViolation[]): string {
  return violations.map((v) => `${v.route} answered ${v.status}: ${v.problem}`).join('\n');
}
