import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import { PaoClient } from '../client';

export const REQUEST_CREATE_ID = 'pao:request:create';

/** Secrets the scaffolder adds itself; never forwarded to PAO. */
const BACKSTAGE_SECRETS = new Set(['backstageToken']);

export const requestCreateExamples = [
  {
    description: 'Submit the form of a PAO offering as a request on behalf of the user running the template',
    example: [
      'steps:',
      '  - id: create',
      '    name: Submit to PAO',
      '    action: pao:request:create',
      '    input:',
      '      catalogId: bundle-webapp-standard',
      '      values: ${{ parameters }}',
    ].join('\n'),
  },
];

/** Forwards the step's secrets (the form's Secret fields) to PAO, minus Backstage's own token. */
export function forwardedSecrets(
  explicit: Record<string, string> | undefined,
  taskSecrets: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const source = explicit ?? taskSecrets ?? {};
  const entries = Object.entries(source).filter(
    ([key, value]) => !BACKSTAGE_SECRETS.has(key) && typeof value === 'string',
  );
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** `pao:request:create`: submits values and secrets to PAO as the initiating user. */
export function createPaoRequestCreateAction(options: { client: PaoClient }) {
  const { client } = options;
  return createTemplateAction({
    id: REQUEST_CREATE_ID,
    description:
      "Submits a request for a PAO offering (item or bundle) on behalf of the user running the template. PAO validates the values against the offering's form, applies its defaults and starts fulfilment; follow it with pao:request:wait.",
    examples: requestCreateExamples,
    supportsDryRun: true,
    schema: {
      input: {
        catalogId: z => z.string().min(1).optional().describe('Id of the PAO catalog item or bundle'),
        offeringId: z => z.string().min(1).optional().describe('Same as catalogId (the name PAO\'s API uses)'),
        version: z => z.string().optional().describe('The offering version the form was built from'),
        values: z =>
          z.record(z.any()).optional().describe('Form values, usually ${{ parameters }}; PAO applies defaults'),
        secrets: z =>
          z
            .record(z.string())
            .optional()
            .describe("Secret values (password fields). Default: the task's secrets, without backstageToken"),
      },
      output: {
        requestId: z => z.string().describe("PAO's request id"),
        status: z => z.string().describe('The request state right after submission'),
        url: z => z.string().describe("The request's page in PAO's portal"),
        requestUrl: z => z.string().describe('Same as url'),
        apiUrl: z => z.string().describe('The request as JSON (PAO API)'),
        eventsUrl: z => z.string().describe("The request's event stream (server-sent events)"),
      },
    },
    async handler(ctx) {
      const offeringId = ctx.input.catalogId ?? ctx.input.offeringId;
      if (!offeringId) {
        throw new InputError(`${REQUEST_CREATE_ID} needs catalogId: the id of the PAO catalog item or bundle`);
      }
      const values = (ctx.input.values ?? {}) as JsonObject;
      const secrets = forwardedSecrets(
        ctx.input.secrets as Record<string, string> | undefined,
        ctx.secrets as Record<string, string> | undefined,
      );
      const onBehalfOf = ctx.user?.ref;
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would submit ${offeringId} to PAO on behalf of ${onBehalfOf ?? 'the service'} with ${Object.keys(values).length} values`,
        );
        const id = 'dry-run';
        ctx.output('requestId', id);
        ctx.output('status', 'dry-run');
        ctx.output('url', client.requestUrl(id));
        ctx.output('requestUrl', client.requestUrl(id));
        ctx.output('apiUrl', client.apiUrl(id));
        ctx.output('eventsUrl', client.eventsUrl(id));
        return;
      }
      const created = await client.createRequest(
        {
          catalogId: offeringId,
          ...(ctx.input.version ? { version: ctx.input.version } : {}),
          values,
          ...(secrets ? { secrets } : {}),
        },
        {
          onBehalfOf,
          signal: ctx.signal,
          idempotencyKey: ctx.task?.id ? `backstage:${ctx.task.id}:${ctx.step?.id ?? REQUEST_CREATE_ID}` : undefined,
        },
      );
      const id = String(created.id);
      const status = String(created.state ?? created.status ?? 'submitted');
      ctx.logger.info(`PAO request ${id} created for ${offeringId} (${status}): ${client.requestUrl(id)}`);
      ctx.output('requestId', id);
      ctx.output('status', status);
      ctx.output('url', client.requestUrl(id));
      ctx.output('requestUrl', client.requestUrl(id));
      ctx.output('apiUrl', client.apiUrl(id));
      ctx.output('eventsUrl', client.eventsUrl(id));
    },
  });
}
