import { LoggerService } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { PaoApiError, PaoClient, PaoEvent, PaoRequest } from '../client';
import {
  COMPLETED_STATES,
  FAILED_STATES,
  eventLine,
  failureMessage,
  requestLinks,
  requestOutputs,
  requestState,
  requestSummary,
  ticketsUrl,
  waitingOn,
} from '../requestState';

export const REQUEST_WAIT_ID = 'pao:request:wait';

export const requestWaitExamples = [
  {
    description: "Stream a PAO request's progress into the step log until it completes",
    example: [
      'steps:',
      '  - id: wait',
      '    name: Provision',
      '    action: pao:request:wait',
      '    input:',
      '      requestId: ${{ steps.create.output.requestId }}',
    ].join('\n'),
  },
];

export interface WaitOutcome {
  request: PaoRequest;
  state: string;
  /** Set when the step stopped following a request that waits on people. */
  waitingOn?: string[];
  lastEvent?: PaoEvent;
}

/** Network errors and 5xx answers: worth asking again. */
function isTransient(error: unknown): boolean {
  if (error instanceof PaoApiError) return error.status >= 500;
  return (error as Error)?.name === 'TimeoutError' || error instanceof TypeError;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Follows a PAO request: its events go to `logger` as they happen (the stream reconnects after the
 * last seen id), while its state is checked whenever an event arrives and every `pollMs`. Ends when
 * the request completes or fails, or when it has waited on people for `waitTimeoutMs`.
 */
export async function followRequest(options: {
  client: PaoClient;
  requestId: string;
  logger: LoggerService;
  waitTimeoutMs: number;
  onBehalfOf?: string;
  signal?: AbortSignal;
  pollMs?: number;
  /** How long PAO may be unreachable (or answer 5xx) before the step fails. */
  unavailableMs?: number;
  now?: () => number;
}): Promise<WaitOutcome> {
  const { client, requestId, logger, waitTimeoutMs, onBehalfOf } = options;
  const pollMs = options.pollMs ?? 2000;
  const now = options.now ?? Date.now;
  const stop = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => stop.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  let wake = new AbortController();
  let lastId: number | undefined;
  let lastEvent: PaoEvent | undefined;
  let sawCompletion = false;

  const follow = (async () => {
    while (!stop.signal.aborted) {
      try {
        for await (const event of client.streamEvents(requestId, lastId, { onBehalfOf, signal: stop.signal })) {
          if (event.id !== undefined) lastId = event.id;
          lastEvent = event;
          const line = eventLine(event);
          logger[line.level](line.message);
          if (event.type === 'completion') sawCompletion = true;
          wake.abort();
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        logger.debug?.(`PAO event stream interrupted, reconnecting: ${String(error)}`);
      }
      await pause(1000, stop.signal);
    }
  })();

  let waitingSince: number | undefined;
  let unavailableSince: number | undefined;
  const unavailableMs = options.unavailableMs ?? 120_000;
  try {
    for (;;) {
      if (outer?.aborted) throw outer.reason ?? new Error('aborted');
      let request: PaoRequest;
      try {
        request = await client.getRequest(requestId, { onBehalfOf, signal: stop.signal });
        unavailableSince = undefined;
      } catch (error) {
        // PAO restarting (its engine is durable) must not fail the Backstage task: keep asking for a while.
        if (outer?.aborted || !isTransient(error)) throw error;
        unavailableSince ??= now();
        if (now() - unavailableSince >= unavailableMs) throw error;
        logger.warn(`PAO did not answer (${String(error)}); asking again`);
        await pause(pollMs, stop.signal);
        continue;
      }
      const state = requestState(request);
      if (COMPLETED_STATES.has(state) || FAILED_STATES.has(state)) {
        // Let the stream print the events that led here (it ends by itself after the completion).
        const grace = new AbortController();
        const timer = setTimeout(() => grace.abort(), 2000);
        while (!sawCompletion && !grace.signal.aborted) {
          wake = new AbortController();
          await pause(2000, AbortSignal.any([wake.signal, grace.signal]));
        }
        clearTimeout(timer);
        return { request, state, lastEvent };
      }
      const people = waitingOn(request);
      if (people.length) {
        waitingSince ??= now();
        if (now() - waitingSince >= waitTimeoutMs) return { request, state, waitingOn: people, lastEvent };
      } else {
        waitingSince = undefined;
      }
      wake = new AbortController();
      await pause(pollMs, AbortSignal.any([wake.signal, stop.signal]));
    }
  } finally {
    stop.abort();
    outer?.removeEventListener('abort', onOuterAbort);
    await follow;
  }
}

/** `pao:request:wait`: streams PAO's events into the step log until the request is done. */
export function createPaoRequestWaitAction(options: {
  client: PaoClient;
  waitTimeoutMs: number;
  pollMs?: number;
  unavailableMs?: number;
}) {
  const { client } = options;
  return createTemplateAction({
    id: REQUEST_WAIT_ID,
    description:
      "Follows a PAO request: streams its events into the step log until it completes. Fails the step with PAO's guidance when the request fails; when it waits on people (a ticket, an approval) for longer than the wait timeout, finishes with the status and links instead.",
    examples: requestWaitExamples,
    supportsDryRun: true,
    schema: {
      input: {
        requestId: z => z.string().min(1).describe('The request id from pao:request:create'),
        waitTimeoutSeconds: z =>
          z
            .number()
            .min(0)
            .optional()
            .describe('Stop following after the request waited on people this long (default from config)'),
        cancelOnAbort: z =>
          z.boolean().optional().describe('Cancel the PAO request when the Backstage task is cancelled (default true)'),
      },
      output: {
        status: z => z.string().describe("The request's state when the step ended"),
        requestUrl: z => z.string().describe("The request's page in PAO's portal"),
        outputs: z => z.record(z.any()).describe("The request's non-secret outputs"),
        links: z => z.array(z.object({ title: z.string(), url: z.string() })).describe('PAO page, tickets, URLs'),
        waitingOn: z => z.array(z.string()).optional().describe('What the request still waits on, if it does'),
        ticketsUrl: z => z.string().optional().describe("The request's ticket, or PAO's page when it has several"),
        hasTickets: z =>
          z.boolean().describe('Whether ticketsUrl is set (use it in `if:`: an empty value would not hide a link)'),
        summary: z => z.string().describe('A short Markdown summary: state, components, plain outputs'),
      },
    },
    async handler(ctx) {
      const requestId = ctx.input.requestId;
      const requestUrl = client.requestUrl(requestId);
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would follow PAO request ${requestId}`);
        ctx.output('status', 'dry-run');
        ctx.output('requestUrl', requestUrl);
        ctx.output('outputs', {});
        ctx.output('links', [{ title: 'Request in PAO', url: requestUrl }]);
        ctx.output('summary', '**dry-run**');
        return;
      }
      const onBehalfOf = ctx.user?.ref;
      const waitTimeoutMs =
        ctx.input.waitTimeoutSeconds !== undefined ? ctx.input.waitTimeoutSeconds * 1000 : options.waitTimeoutMs;
      ctx.logger.info(`Following PAO request ${requestId}: ${requestUrl}`);
      let outcome: WaitOutcome;
      try {
        outcome = await followRequest({
          client,
          requestId,
          logger: ctx.logger,
          waitTimeoutMs,
          onBehalfOf,
          signal: ctx.signal,
          pollMs: options.pollMs,
          unavailableMs: options.unavailableMs,
        });
      } catch (error) {
        if (ctx.signal?.aborted && ctx.input.cancelOnAbort !== false) {
          // Cancelling the Backstage task cancels the PAO request too; not bound to the aborted signal.
          try {
            await client.cancelRequest(requestId, { onBehalfOf });
            ctx.logger.warn(`Backstage task cancelled: cancelled PAO request ${requestId}`);
          } catch (cancelError) {
            ctx.logger.warn(`Could not cancel PAO request ${requestId}: ${String(cancelError)}`);
          }
        }
        throw error;
      }
      const { request, state } = outcome;
      const links = requestLinks(request, requestUrl);
      if (FAILED_STATES.has(state)) {
        throw new Error(`${failureMessage(request, outcome.lastEvent)} (${requestUrl})`);
      }
      ctx.output('status', state);
      ctx.output('requestUrl', requestUrl);
      ctx.output('outputs', requestOutputs(request));
      ctx.output('links', links);
      ctx.output('summary', requestSummary(request, outcome.waitingOn));
      const tickets = ticketsUrl(request, requestUrl);
      if (tickets) ctx.output('ticketsUrl', tickets);
      ctx.output('hasTickets', Boolean(tickets));
      if (outcome.waitingOn) {
        ctx.output('waitingOn', outcome.waitingOn);
        ctx.logger.info(
          `PAO request ${requestId} is ${state} and waits on ${outcome.waitingOn.join(', ')}; it goes on in PAO: ${requestUrl}`,
        );
      } else {
        ctx.logger.info(`PAO request ${requestId} completed: ${requestUrl}`);
      }
    },
  });
}
