import {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { EntityProvider, EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { HumanDuration } from '@backstage/types';
import { PaoCatalogApi } from './client';
import { fingerprint, toDeferredEntity } from './translate';

export interface PaoEntityProviderOptions {
  client: PaoCatalogApi;
  baseUrl: string;
  logger: LoggerService;
  kinds: string[];
  /** Full re-read cadence (global: one instance of a scaled-out catalog runs it). */
  schedule?: SchedulerServiceTaskScheduleDefinition;
  /** Change poll cadence (local: cheap, every instance). */
  changePollInterval?: HumanDuration;
  scheduler?: SchedulerService;
}

/**
 * Reads PAO's Templates and Groups and applies them as full mutations: the provider's bucket always
 * equals PAO's catalog, so a removed document disappears from Backstage too.
 */
export class PaoEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private lastFingerprint?: string;
  private lastVersion?: string;
  private running: Promise<unknown> = Promise.resolve();
  private lastCheckError?: string;

  constructor(private readonly options: PaoEntityProviderOptions) {}

  getProviderName(): string {
    return 'pao';
  }

  get locationKey(): string {
    return `pao:${this.options.baseUrl}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    const { scheduler, schedule, changePollInterval } = this.options;
    if (!scheduler) return;
    if (schedule) {
      await scheduler.scheduleTask({
        id: 'pao-catalog-refresh',
        ...schedule,
        fn: async () => {
          await this.refresh({ force: true });
        },
      });
    }
    if (changePollInterval) {
      await scheduler.scheduleTask({
        id: 'pao-catalog-change-poll',
        scope: 'local',
        frequency: changePollInterval,
        timeout: { minutes: 1 },
        fn: async () => {
          await this.checkForChanges();
        },
      });
    }
  }

  /**
   * Reads PAO's entities and applies them when they differ from what was applied last
   * (or always, with `force`). Calls are serialised so two refreshes never interleave.
   */
  refresh(opts: { force?: boolean } = {}): Promise<{ applied: boolean; count: number }> {
    const next = this.running.then(() => this.doRefresh(opts.force ?? false));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Cheap check of PAO's catalog version; re-reads the entities only when it moved. */
  async checkForChanges(): Promise<boolean> {
    let version: string | undefined;
    try {
      version = await this.options.client.getCatalogVersion();
    } catch (error) {
      // Said once per distinct problem, not every poll: the poll runs every few seconds.
      const message = String(error);
      if (message !== this.lastCheckError) {
        this.options.logger.warn(`PAO catalog version check failed: ${message}`);
        this.lastCheckError = message;
      }
      return false;
    }
    if (this.lastCheckError) {
      this.options.logger.info(`PAO catalog version check works again (${this.options.baseUrl})`);
      this.lastCheckError = undefined;
    }
    // Without a version route every poll re-reads; the fingerprint still avoids needless mutations.
    if (version !== undefined && version === this.lastVersion) return false;
    const { applied } = await this.refresh();
    this.lastVersion = version;
    return applied;
  }

  private async doRefresh(force: boolean): Promise<{ applied: boolean; count: number }> {
    if (!this.connection) {
      throw new Error('PaoEntityProvider is not connected to the catalog yet');
    }
    const { client, kinds, baseUrl, logger } = this.options;
    // A failed read throws before anything is applied: PAO being down must not empty the catalog.
    const entities = await client.getEntities(kinds);
    const deferred = entities.map(entity =>
      toDeferredEntity(entity, { baseUrl, locationKey: this.locationKey }),
    );
    const print = fingerprint(deferred);
    if (!force && print === this.lastFingerprint) {
      return { applied: false, count: deferred.length };
    }
    await this.connection.applyMutation({ type: 'full', entities: deferred });
    this.lastFingerprint = print;
    logger.info(`Applied ${deferred.length} PAO entities (${kinds.join(', ')}) from ${baseUrl}`);
    return { applied: true, count: deferred.length };
  }
}
