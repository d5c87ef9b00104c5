import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';

export interface PaoCatalogConfig {
  baseUrl: string;
  serviceToken?: string;
  kinds: string[];
  schedule: SchedulerServiceTaskScheduleDefinition;
  /** undefined: only the schedule refreshes. */
  changePollInterval?: HumanDuration;
}

export const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 10 },
  timeout: { minutes: 2 },
};
export const DEFAULT_CHANGE_POLL_INTERVAL: HumanDuration = { seconds: 3 };
export const DEFAULT_KINDS = ['template', 'group'];

/** Reads the `pao` block (see config.d.ts); fails at start-up with the key to fix. */
export function readPaoCatalogConfig(root: Config): PaoCatalogConfig {
  const pao = root.getConfig('pao');
  const catalog = pao.getOptionalConfig('catalog');
  let changePollInterval: HumanDuration | undefined = DEFAULT_CHANGE_POLL_INTERVAL;
  if (catalog?.has('changePollInterval')) {
    const raw = catalog.get('changePollInterval');
    changePollInterval =
      raw === false ? undefined : readDurationFromConfig(catalog, { key: 'changePollInterval' });
  }
  return {
    baseUrl: pao.getString('baseUrl').replace(/\/+$/, ''),
    serviceToken: pao.getOptionalString('serviceToken'),
    kinds: catalog?.getOptionalStringArray('kinds') ?? DEFAULT_KINDS,
    schedule: catalog?.has('schedule')
      ? readSchedulerServiceTaskScheduleDefinitionFromConfig(catalog.getConfig('schedule'))
      : DEFAULT_SCHEDULE,
    changePollInterval,
  };
}
