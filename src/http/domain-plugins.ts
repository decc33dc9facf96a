/**
 * Every domain the server exposes, in registration order. Adding a domain is one import and one
 * entry here.
 */
import { documentsRoutes } from '../domains/documents/documents.routes.js';
import type { DomainPlugin } from './domain-plugin.js';

export const domainPlugins: readonly DomainPlugin[] = [documentsRoutes];
