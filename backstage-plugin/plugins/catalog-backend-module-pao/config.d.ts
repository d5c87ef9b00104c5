import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';
import { HumanDuration } from '@backstage/types';

export interface Config {
  /** Where Backstage reaches PAO, the Platform Automation Orchestrator. */
  pao?: {
    /**
     * PAO's base URL as seen from the Backstage backend, e.g. https://pao.example.com.
     * Entity links and locations are built from it.
     */
    baseUrl: string;
    /**
     * A service token PAO accepts (one of PAO_SERVICE_TOKENS), sent as `Authorization: Bearer`.
     * @visibility secret
     */
    serviceToken?: string;
    /** The catalog module: PAO's Templates and Groups in Backstage's catalog. */
    catalog?: {
      /**
       * How often every PAO Template and Group is re-read and applied as a full mutation.
       * Default: every 10 minutes, timeout 2 minutes.
       */
      schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
      /**
       * How often PAO's catalog version (a cheap ETag) is checked; a change triggers an immediate
       * re-read, so edited documents show up within seconds. Default 3 seconds. Set `false` to only
       * use the schedule.
       */
      changePollInterval?: HumanDuration | string | false;
      /** Entity kinds read from PAO. Default [template, group]. */
      kinds?: string[];
    };
  };
}
