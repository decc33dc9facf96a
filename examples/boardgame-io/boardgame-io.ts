/**
 * boardgame.io 0.50, loaded for Node. Its subpaths (`boardgame.io/server`, `/client`, …) are
 * folders with their own package.json and it has no `exports` map, so Node's ESM resolver refuses
 * them (ERR_UNSUPPORTED_DIR_IMPORT). `createRequire` resolves them as CommonJS, which is what
 * they are built as (dist/cjs), in Vitest, tsx and plain Node alike. Only the types are imported
 * statically; they vanish from the emitted code.
 */
import { createRequire } from 'node:module';
import type * as ClientPackage from 'boardgame.io/client';
import type * as CorePackage from 'boardgame.io/core';
import type * as MasterPackage from 'boardgame.io/master';
import type * as MultiplayerPackage from 'boardgame.io/multiplayer';
import type * as ServerPackage from 'boardgame.io/server';

const require = createRequire(import.meta.url);

export const bgioServer = (): typeof ServerPackage => require('boardgame.io/server');
export const bgioClient = (): typeof ClientPackage => require('boardgame.io/client');
export const bgioCore = (): typeof CorePackage => require('boardgame.io/core');
export const bgioMaster = (): typeof MasterPackage => require('boardgame.io/master');
export const bgioMultiplayer = (): typeof MultiplayerPackage => require('boardgame.io/multiplayer');
