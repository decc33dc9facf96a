import { type Config, describeConfig } from '../../config.js';
import { describeSeedReport, seedAtStart } from '../../domains/catalog/catalog.js';
import { resolveApiKey } from '../../http/api-key.js';
import { buildServer } from '../../http/server.js';
import { SAVEPOINT_VERSION } from '../../http/version.js';
import type { ServeFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';
import { assertPortFree, portRefusal } from '../port-check.js';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000;

export interface RunningService {
  /** `http://HOST:PORT`, with the port actually bound (useful with `--port 0`). */
  readonly url: string;
  /** Stops accepting, waits for requests and commits in flight, closes the store. */
  stop(): Promise<void>;
}

/** An IPv6 literal needs brackets in a URL. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Starts the service for `config`, printing the banner and the `listening on` line to `output.out`. */
export async function startService(
  config: Config,
  output: CommandOutput = processOutput,
): Promise<RunningService> {
  say(output.out, `savepoint ${SAVEPOINT_VERSION}`);
  for (const line of describeConfig(config)) say(output.out, `  ${line}`);
  await assertPortFree(config.host, config.port);
  const apiKey = await resolveApiKey(config);
  if (apiKey.origin === 'file-created') say(output.out, `api key: generated into ${apiKey.path} (mode 0600)`);
  else if (apiKey.origin === 'file') say(output.out, `api key: read from ${apiKey.path}`);
  else say(output.out, 'api key: from SAVEPOINT_API_KEY');

  const savepoint = await openConfiguredSavepoint(config);
  let app: Awaited<ReturnType<typeof buildServer>>;
  try {
    // Balance changes ship with a deploy: seed files load before the first request is served.
    const seeded = await seedAtStart(savepoint.store, config);
    if (seeded !== undefined) for (const line of describeSeedReport(seeded)) say(output.out, line);
    app = await buildServer({
      savepoint,
      config: { ...config, apiKey: apiKey.key },
      logger: { level: config.logLevel, stream: output.err },
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await savepoint.close();
    throw portRefusal(config.host, config.port, error);
  }
  const address = app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.port;
  const url = `http://${urlHost(config.host)}:${port}`;
  say(output.out, `listening on ${url}`);
  return {
    url,
    async stop() {
      await app.close();
      await savepoint.close();
    },
  };
}

/** Stops the service on SIGTERM/SIGINT; a second signal exits at once. */
function stopOnSignals(service: RunningService, output: CommandOutput): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      say(output.err, `${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    say(output.out, `${signal}: shutting down (finishing requests in flight)`);
    const deadline = setTimeout(() => {
      say(output.err, `shutdown took over ${SHUTDOWN_GRACE_MS / 1000} s: exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    deadline.unref();
    service.stop().then(
      () => {
        say(output.out, 'stopped');
        process.exitCode = 0;
        // Everything is closed; a stray handle (a client's idle socket) must not keep the process up.
        setTimeout(() => process.exit(0), 1000).unref();
      },
      (error: unknown) => {
        say(output.err, `error: shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** `savepoint serve`: runs until SIGTERM or SIGINT. */
export async function serveAction(flags: ServeFlags): Promise<void> {
  const service = await startService(configFrom(flags));
  stopOnSignals(service, processOutput);
}
