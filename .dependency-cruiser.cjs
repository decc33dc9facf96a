/**
 * The layers of `src/`, checked by `npm run layers` (part of `npm test`). Each floor may import the
 * floors below it and never one above, so a change on a floor cannot reach down and break the
 * floors it is built on, and no import cycle can form across floors. From the bottom up:
 *
 *   base         src/errors.ts, src/engine/, src/atomic-file.ts    the store and its vocabulary
 *   storage      src/drivers/, src/cache/, src/open.ts,            turning a URL into a driver, the
 *                src/config.ts, src/audit.ts                       settings, the audit log
 *   module kit   src/http-kit/, src/module.ts                      what a module is written with:
 *                                                                  route helpers and its descriptor
 *   domains      src/domains/                                      the game modules
 *   composition  src/savepoint.ts, src/modules.ts, src/index.ts    the Savepoint and its module list
 *   surfaces     src/http/, src/cli/, src/client/                  the server, the commands, the client
 *   adapters     src/adapters/                                     Keyv, boardgame.io: users of the library
 *   testing      src/testing/                                      the conformance suite (savepoint/testing)
 *
 * docs/architecture.md explains why the floors are cut where they are.
 */

/** Paths of each floor, as regular expressions over paths relative to the repository. */
const floor = {
  base: '^src/(errors\\.ts|atomic-file\\.ts|engine/)',
  storage: '^src/(drivers/|cache/|open\\.ts|config\\.ts|audit\\.ts)',
  kit: '^src/(http-kit/|module\\.ts)',
  domains: '^src/domains/',
  composition: '^src/(savepoint|modules|index)\\.ts$',
  http: '^src/http/',
  cli: '^src/cli/',
  client: '^src/client/',
  adapters: '^src/adapters/',
  testing: '^src/testing/',
};

/** The floors below the surfaces, from the bottom up. */
const stack = ['base', 'storage', 'kit', 'domains', 'composition'];
const surfaces = [floor.http, floor.cli, floor.client, floor.adapters, floor.testing];

/** Every floor above `name`: what it must never import. */
const above = (name) => [...stack.slice(stack.indexOf(name) + 1).map((next) => floor[next]), ...surfaces];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'No import cycle, type-only imports included: a cycle means two modules cannot be understood, tested or loaded one without the other. Break it with a small interface on the lower side (game-tracker.ts takes a GameWriter, not Games).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-stays-at-the-bottom',
      comment:
        'The engine and the error catalog import nothing else of Savepoint: every driver, module and surface is built on them, and they must stay usable alone.',
      severity: 'error',
      from: { path: floor.base },
      to: { path: above('base') },
    },
    {
      name: 'storage-knows-no-modules',
      comment:
        'Drivers, the Redis layer, storage URLs, settings and the audit log serve every module alike: they import the base only, never a module or a surface.',
      severity: 'error',
      from: { path: floor.storage },
      to: { path: above('storage') },
    },
    {
      name: 'drivers-stay-apart',
      comment:
        'A driver is replaceable on its own: no driver imports another driver or the Redis layer, and the Redis layer wraps any driver through the Driver interface rather than importing one.',
      severity: 'error',
      from: { path: '^src/(drivers/[^/]+|cache)/' },
      to: { path: '^src/(drivers|cache)/', pathNot: ['^src/$1/'] },
    },
    {
      name: 'module-kit-knows-no-module',
      comment:
        'The helpers routes are written with (schemas, problem answers, preconditions, auth, metrics, reserved collections) and the module descriptor sit below the domains, so a domain imports them downwards and the server needs no domain.',
      severity: 'error',
      from: { path: floor.kit },
      to: { path: above('kit') },
    },
    {
      name: 'domains-do-not-reach-up',
      comment:
        'A domain is used by the composition root, the server, the commands and the client; it never imports them (the server hands a module its API and settings through the descriptor).',
      severity: 'error',
      from: { path: floor.domains },
      to: { path: above('domains') },
    },
    {
      name: 'composition-below-surfaces',
      comment:
        'The Savepoint (library entry, module list, settings to options) is what the surfaces use; it never imports the server, the commands, the client or an adapter.',
      severity: 'error',
      from: { path: floor.composition },
      to: { path: above('composition') },
    },
    {
      name: 'server-imports-no-domain',
      comment:
        'The HTTP server walks the descriptors of the Savepoint it serves (routes, sweep, check, queued writes); it imports no domain, so adding a module never touches src/http/.',
      severity: 'error',
      from: { path: floor.http },
      to: { path: [floor.domains, floor.cli, floor.client, floor.adapters] },
    },
    {
      name: 'client-has-no-server',
      comment:
        'The typed client ships to programs that run no server: it never imports the server or the commands.',
      severity: 'error',
      from: { path: floor.client },
      to: { path: [floor.http, floor.cli] },
    },
    {
      name: 'adapters-on-top',
      comment:
        'Nothing inside Savepoint imports an adapter: they are optional entry points built on the library.',
      severity: 'error',
      from: { path: '^src/', pathNot: floor.adapters },
      to: { path: floor.adapters },
    },
    {
      name: 'conformance-suite-on-top',
      comment:
        'The conformance suite tests drivers from the outside, as a third-party author runs it: nothing inside Savepoint imports it, so the library never loads test code.',
      severity: 'error',
      from: { path: '^src/', pathNot: floor.testing },
      to: { path: floor.testing },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle of types is still a cycle for whoever reads the code.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
