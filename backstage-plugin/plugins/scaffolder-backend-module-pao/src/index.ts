/**
 * Backstage scaffolder module for PAO, the Platform Automation Orchestrator: pao:request:create,
 * pao:request:wait and one action per action in PAO's registry.
 *
 * @packageDocumentation
 */
export { scaffolderModulePao as default } from './module';
export { createPaoRegistryAction } from './actions/registry';
export { createPaoRequestCreateAction } from './actions/requestCreate';
export { createPaoRequestWaitAction, followRequest } from './actions/requestWait';
export { PaoApiError, PaoClient } from './client';
export type { CallOptions, PaoActionDescriptor, PaoEvent, PaoFile, PaoInvokeResult, PaoRequest } from './client';
export { readPaoScaffolderConfig } from './config';
export type { PaoScaffolderConfig } from './config';
