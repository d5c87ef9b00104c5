import { HumanDuration } from '@backstage/types';

export interface Config {
  /** Where Backstage reaches PAO, the Platform Automation Orchestrator. */
  pao?: {
    /** PAO's base URL as seen from the Backstage backend, e.g. https://pao.example.com. */
    baseUrl: string;
    /**
     * A service token PAO accepts (one of PAO_SERVICE_TOKENS), sent as `Authorization: Bearer`.
     * The initiating user's entity ref travels in `X-PAO-On-Behalf-Of`.
     * @visibility secret
     */
    serviceToken?: string;
    /** The scaffolder module: pao:request:create, pao:request:wait and PAO's registry actions. */
    scaffolder?: {
      /**
       * How long pao:request:wait follows a request that is waiting on people (a ticket, an approval)
       * before the step finishes with the status and links instead. Default 10 minutes.
       */
      waitTimeout?: HumanDuration | string;
      /**
       * Register one Backstage action per action in PAO's registry (listed at start-up). Default true.
       */
      registryActions?: boolean;
      /** Timeout of one HTTP call to PAO (not of a whole wait). Default 60 seconds. */
      requestTimeout?: HumanDuration | string;
    };
  };
}
