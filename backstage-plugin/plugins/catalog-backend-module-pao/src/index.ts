/**
 * Backstage catalog module for PAO, the Platform Automation Orchestrator: PAO's Templates and
 * Groups as catalog entities.
 *
 * @packageDocumentation
 */
export { catalogModulePao as default } from './module';
export { PaoCatalogClient, PaoCatalogError } from './client';
export type { PaoCatalogApi } from './client';
export { readPaoCatalogConfig } from './config';
export type { PaoCatalogConfig } from './config';
export { PaoEntityProvider } from './provider';
export type { PaoEntityProviderOptions } from './provider';
export { paoLocationRef, toDeferredEntity } from './translate';
