/**
 * The port is checked before anything touches the data dir: a second `savepoint serve` on a taken
 * port must fail without generating a key or a database into a directory nobody will use.
 */
import { createServer } from 'node:net';
import { SavepointError } from '../errors.js';

/** The one-line failure for a port that cannot be bound, naming `--port` as the way out. */
export function portRefusal(host: string, port: number, cause: unknown): unknown {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new SavepointError(
      'INVALID_INPUT',
      `Port ${port} on ${host} is already in use (is another savepoint running?); stop that process or choose another port with --port`,
      { cause },
    );
  }
  if (code === 'EACCES') {
    return new SavepointError(
      'INVALID_INPUT',
      `Port ${port} on ${host} needs privileges this process lacks (EACCES); choose a port above 1023 with --port`,
      { cause },
    );
  }
  return cause;
}

/**
 * Binds `host:port` for a moment and releases it; throws {@link portRefusal}'s error when it
 * cannot. Port 0 always succeeds and is not probed. Another process may still take the port
 * between this check and the real listen; that rarer case fails the same way, later.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(portRefusal(host, port, error)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
