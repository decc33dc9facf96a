/**
 * Every way a request can fail ends here as `application/problem+json`: errors thrown by routes and
 * hooks, unknown routes, URLs Fastify cannot route, and malformed HTTP caught by Node before Fastify
 * sees a request. 5xx answers are logged with their cause; the client gets only the catalog text.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type ProblemAnswer, problemFor, problemOf } from '../http-kit/problem.js';

function send(reply: FastifyReply, answer: ProblemAnswer): FastifyReply {
  // Serialized here rather than through a response schema, so every error has exactly this shape.
  return reply
    .code(answer.problem.status)
    .headers(answer.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(answer.problem));
}

/** Installs the error and not-found handlers. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const answer = problemFor(error);
    if (answer.serverFault) request.log.error({ err: error, url: request.url }, 'request failed');
    return send(reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    return send(reply, problemOf('NOT_FOUND', `No route for ${request.method} ${shown}`));
  });
}

/**
 * Fastify's `frameworkErrors` option: a URL it cannot decode (`/%E0%A4%A`) or a path segment over
 * the router's length limit answers `400 INVALID_INPUT`.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  void send(reply, problemOf('INVALID_INPUT', error.message));
}

/** Whether the unparseable request was a HEAD (its raw bytes are a Buffer at run time, whatever the type says). */
function isHeadRequest(error: ConnectionError): boolean {
  const raw: unknown = error.rawPacket;
  return Buffer.isBuffer(raw) && raw.toString('latin1', 0, 5) === 'HEAD ';
}

/**
 * Fastify's `clientErrorHandler` option, for HTTP too malformed to become a request (a bad request
 * line, oversized headers, a timeout). Node's default answer is plain text; this keeps the shape.
 */
export function clientErrorHandler(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let answer: ProblemAnswer;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    answer = problemOf('PAYLOAD_TOO_LARGE', 'The request line and headers are over the 16 KiB limit', 431);
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    answer = problemOf('INVALID_INPUT', 'The request was not received in time', 408);
  } else {
    answer = problemOf('INVALID_INPUT', 'The request is not valid HTTP/1.1');
  }
  // A HEAD request's answer has no body, even an error's: a client reading one would fail to parse it.
  const body = isHeadRequest(error) ? '' : JSON.stringify(answer.problem);
  // As Node's own handler: once anything went out on this socket (an earlier answer), another
  // answer would corrupt the stream, so the socket is only closed.
  if (socket.writable && socket.bytesWritten === 0) {
    const status = answer.problem.status;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
