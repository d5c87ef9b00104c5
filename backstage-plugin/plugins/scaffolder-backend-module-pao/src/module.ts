import { coreServices, createBackendModule, LoggerService } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { registryActions } from './actions/registry';
import { createPaoRequestCreateAction, REQUEST_CREATE_ID } from './actions/requestCreate';
import { createPaoRequestWaitAction, REQUEST_WAIT_ID } from './actions/requestWait';
import { PaoActionDescriptor, PaoClient } from './client';
import { readPaoScaffolderConfig } from './config';

/** Lists PAO's registry, retrying for a while so a Backstage that starts first still gets the actions. */
export async function listRegistry(
  client: PaoClient,
  logger: LoggerService,
  options: { attempts?: number; delayMs?: number } = {},
): Promise<PaoActionDescriptor[]> {
  const attempts = options.attempts ?? 8;
  let delay = options.delayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.listActions();
    } catch (error) {
      if (attempt >= attempts) {
        logger.error(
          `PAO's action registry could not be listed from ${client.baseUrl} (${String(error)}); only ${REQUEST_CREATE_ID} and ${REQUEST_WAIT_ID} are registered. Restart Backstage once PAO is up.`,
        );
        return [];
      }
      await new Promise(resolve => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Adds PAO's actions to the scaffolder: `backend.add(import('@pao/plugin-scaffolder-backend-module-pao'))`. */
export const scaffolderModulePao = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'pao',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ scaffolder, config, logger }) {
        const settings = readPaoScaffolderConfig(config);
        const client = new PaoClient({
          baseUrl: settings.baseUrl,
          serviceToken: settings.serviceToken,
          timeoutMs: settings.requestTimeoutMs,
        });
        scaffolder.addActions(
          createPaoRequestCreateAction({ client }),
          createPaoRequestWaitAction({ client, waitTimeoutMs: settings.waitTimeoutMs }),
        );
        if (settings.registryActions) {
          const descriptors = await listRegistry(client, logger);
          const actions = registryActions(descriptors, client, new Set([REQUEST_CREATE_ID, REQUEST_WAIT_ID]));
          scaffolder.addActions(...actions);
          logger.info(`Registered ${actions.length} PAO registry actions: ${actions.map(a => a.id).join(', ')}`);
        }
      },
    });
  },
});
