/** The mapping from thrown errors to problem answers. */
import { describe, expect, it } from 'vitest';
import { SavepointError, versionConflict } from '../../src/errors.js';
import { asPreconditionFailure, problemFor, problemOf } from '../../src/http-kit/problem.js';

describe('problemFor', () => {
  it('keeps a catalog error its code, status, message and details', () => {
    const answer = problemFor(versionConflict('stale', { opIndex: 2, expected: 1, actual: 3 }));
    expect(answer.problem).toEqual({
      type: 'urn:savepoint:error:VERSION_CONFLICT',
      title: 'Version conflict',
      status: 409,
      code: 'VERSION_CONFLICT',
      detail: 'stale',
      opIndex: 2,
      expected: 1,
      actual: 3,
    });
    expect(answer.serverFault).toBe(false);
  });

  it('answers 412 for a conflict from a conditional header', () => {
    expect(problemFor(asPreconditionFailure(versionConflict('stale'))).problem.status).toBe(412);
  });

  it('never lets details replace the standard members', () => {
    const error = new SavepointError('FORBIDDEN', 'no', {
      details: { status: 'completed', code: 'X', detail: 'y' },
    });
    expect(problemFor(error).problem).toMatchObject({ status: 403, code: 'FORBIDDEN', detail: 'no' });
  });

  it('hides the message of anything unexpected', () => {
    for (const thrown of [
      new Error('/etc/secret'),
      'a string',
      null,
      { statusCode: 500, message: '/etc/secret' },
    ]) {
      const answer = problemFor(thrown);
      expect(answer.problem).toMatchObject({ status: 500, code: 'INTERNAL' });
      expect(JSON.stringify(answer.problem)).not.toContain('secret');
      expect(answer.serverFault).toBe(true);
    }
    expect(
      JSON.stringify(problemFor(new SavepointError('INTERNAL', 'Unexpected error: /etc/secret')).problem),
    ).not.toContain('secret');
  });

  it('maps Fastify client errors onto catalog codes', () => {
    expect(
      problemFor({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'Unsupported' }).problem,
    ).toMatchObject({
      status: 400,
      code: 'INVALID_INPUT',
    });
    expect(problemFor({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }).problem).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(problemFor({ statusCode: 405, message: 'nope' }).problem).toMatchObject({
      status: 400,
      code: 'INVALID_INPUT',
    });
  });

  it('adds Retry-After to STORAGE_UNAVAILABLE and WWW-Authenticate to UNAUTHORIZED', () => {
    expect(problemFor(new SavepointError('STORAGE_UNAVAILABLE', 'down')).headers).toEqual({
      'retry-after': '5',
    });
    expect(problemOf('STORAGE_UNAVAILABLE', 'down').headers).toEqual({ 'retry-after': '5' });
    expect(problemFor(new SavepointError('UNAUTHORIZED', 'who')).headers['www-authenticate']).toMatch(
      /^Bearer/,
    );
  });
});
