import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';

export interface PaoScaffolderConfig {
  baseUrl: string;
  serviceToken?: string;
  waitTimeoutMs: number;
  requestTimeoutMs: number;
  registryActions: boolean;
}

export const DEFAULT_WAIT_TIMEOUT: HumanDuration = { minutes: 10 };
export const DEFAULT_REQUEST_TIMEOUT: HumanDuration = { seconds: 60 };

/** Milliseconds in a HumanDuration (months and years are not accepted: nobody waits that long). */
export function durationToMs(duration: HumanDuration): number {
  const { milliseconds = 0, seconds = 0, minutes = 0, hours = 0, days = 0, weeks = 0 } = duration;
  return milliseconds + 1000 * (seconds + 60 * (minutes + 60 * (hours + 24 * (days + 7 * weeks))));
}

/** Reads the `pao` block (see config.d.ts); fails at start-up with the key to fix. */
export function readPaoScaffolderConfig(root: Config): PaoScaffolderConfig {
  const pao = root.getConfig('pao');
  const scaffolder = pao.getOptionalConfig('scaffolder');
  const duration = (key: string, fallback: HumanDuration) =>
    durationToMs(scaffolder?.has(key) ? readDurationFromConfig(scaffolder, { key }) : fallback);
  return {
    baseUrl: pao.getString('baseUrl').replace(/\/+$/, ''),
    serviceToken: pao.getOptionalString('serviceToken'),
    waitTimeoutMs: duration('waitTimeout', DEFAULT_WAIT_TIMEOUT),
    requestTimeoutMs: duration('requestTimeout', DEFAULT_REQUEST_TIMEOUT),
    registryActions: scaffolder?.getOptionalBoolean('registryActions') ?? true,
  };
}
