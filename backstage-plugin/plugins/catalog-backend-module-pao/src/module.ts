import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { PaoCatalogClient } from './client';
import { readPaoCatalogConfig } from './config';
import { PaoEntityProvider } from './provider';

/** Adds PAO's Templates and Groups to the catalog: `backend.add(import('@pao/plugin-catalog-backend-module-pao'))`. */
export const catalogModulePao = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'pao',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
      },
      async init({ catalog, config, logger, scheduler }) {
        const settings = readPaoCatalogConfig(config);
        const client = new PaoCatalogClient({
          baseUrl: settings.baseUrl,
          serviceToken: settings.serviceToken,
        });
        catalog.addEntityProvider(
          new PaoEntityProvider({
            client,
            baseUrl: settings.baseUrl,
            logger,
            kinds: settings.kinds,
            schedule: settings.schedule,
            changePollInterval: settings.changePollInterval,
            scheduler,
          }),
        );
      },
    });
  },
});
