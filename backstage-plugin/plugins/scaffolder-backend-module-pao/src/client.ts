import { JsonObject, JsonValue } from '@backstage/types';
import { parseSse } from './sse';

/** Who is asking: PAO records `onBehalfOf` (a Backstage user entity ref) as the requester. */
export interface CallOptions {
  onBehalfOf?: string;
  signal?: AbortSignal;
}

/** A PAO request as GET /api/pao/v1/requests/{id} returns it (fields PAO may add are kept). */
export interface PaoRequest extends JsonObject {
  id: string;
}

/** One event of a request's stream. `body.message` is always a human sentence. */
export interface PaoEvent {
  id?: number;
  type: string;
  componentId?: string | null;
  body: { message?: string; state?: string; level?: string; [key: string]: unknown };
}

/** An action of PAO's registry in Backstage's /v2/actions shape. */
export interface PaoActionDescriptor {
  id: string;
  description?: string;
  examples?: { description: string; example: string; notes?: string }[];
  schema?: { input?: JsonObject; output?: JsonObject };
  supportsDryRun?: boolean;
}

/** A file in or out of an action run: path relative to the workspace, content base64. */
export interface PaoFile {
  path: string;
  base64Content: string;
  executable?: boolean;
}

export interface PaoInvokeResult {
  output: JsonObject;
  files: PaoFile[];
  logs: { level?: string; message: string }[];
}

/** PAO answered with an error; `message` carries PAO's message and its guidance. */
export class PaoApiError extends Error {
  name = 'PaoApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly body?: JsonValue,
  ) {
    super(message);
  }
}

/** The HTTP calls the scaffolder module makes to PAO, with the service token and the user. */
export class PaoClient {
  readonly baseUrl: string;
  private readonly serviceToken?: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: { baseUrl: string; serviceToken?: string; fetch?: typeof fetch; timeoutMs?: number }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.serviceToken = options.serviceToken;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Where a person sees the request in PAO's portal. */
  requestUrl(id: string): string {
    return `${this.baseUrl}/requests/${encodeURIComponent(id)}`;
  }

  apiUrl(id: string): string {
    return `${this.baseUrl}/api/pao/v1/requests/${encodeURIComponent(id)}`;
  }

  /** The request's live event stream (server-sent events; `?after=<event id>` resumes). */
  eventsUrl(id: string): string {
    return `${this.apiUrl(id)}/events/stream`;
  }

  /**
   * Submits a request. `idempotencyKey` makes a retried Backstage step find the request it already
   * created instead of creating a second one (PAO answers 200 with the existing request).
   */
  async createRequest(
    body: { catalogId: string; version?: string; values: JsonObject; secrets?: Record<string, string> },
    options: CallOptions & { idempotencyKey?: string },
  ): Promise<PaoRequest> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    return (await this.json('POST', '/api/pao/v1/requests', options, body, { headers })) as PaoRequest;
  }

  async getRequest(id: string, options: CallOptions): Promise<PaoRequest> {
    return (await this.json('GET', `/api/pao/v1/requests/${encodeURIComponent(id)}`, options)) as PaoRequest;
  }

  async cancelRequest(id: string, options: CallOptions): Promise<void> {
    await this.json('POST', `/api/pao/v1/requests/${encodeURIComponent(id)}/cancel`, options, {});
  }

  /**
   * Follows the request's event stream after event `after` until PAO closes it or `signal` aborts.
   * The stream has no timeout of its own: the caller decides how long to follow.
   */
  async *streamEvents(id: string, after: number | undefined, options: CallOptions): AsyncGenerator<PaoEvent> {
    const query = after === undefined ? '' : `?after=${after}`;
    // PAO ends the stream after a final completion; a failed request's stream stays open (it can be retried).
    const url = `${this.eventsUrl(id)}${query}`;
    const response = await this.send(url, {
      method: 'GET',
      headers: { ...this.headers(options), accept: 'text/event-stream' },
      signal: options.signal,
    });
    if (!response.ok || !response.body) throw await errorFrom(response, 'GET', url);
    for await (const message of parseSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        continue; // not an event of ours (e.g. a text keep-alive)
      }
      const event = normaliseEvent(parsed, message.event, message.id);
      if (event) yield event;
    }
  }

  async listActions(options: CallOptions = {}): Promise<PaoActionDescriptor[]> {
    const body = await this.json('GET', '/api/pao/v1/actions', options);
    const list = Array.isArray(body) ? body : (body as { items?: unknown })?.items;
    if (!Array.isArray(list)) {
      throw new PaoApiError(`GET ${this.baseUrl}/api/pao/v1/actions did not return a list of actions`, 502);
    }
    return list as PaoActionDescriptor[];
  }

  async invokeAction(
    actionId: string,
    body: {
      input: JsonObject;
      secrets?: Record<string, string>;
      files: PaoFile[];
      dryRun: boolean;
      /** Stable per Backstage task step, so a retried step does not repeat side effects. */
      attemptKey?: string;
    },
    options: CallOptions,
  ): Promise<PaoInvokeResult> {
    const result = (await this.json(
      'POST',
      `/api/pao/v1/actions/${encodeURIComponent(actionId).replace(/%3A/gi, ':')}:invoke`,
      options,
      body,
      { timeout: false },
    )) as Partial<PaoInvokeResult> & { outputs?: JsonObject };
    return {
      output: result.output ?? result.outputs ?? {},
      files: result.files ?? [],
      logs: result.logs ?? [],
    };
  }

  private headers(options: CallOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.serviceToken) headers.authorization = `Bearer ${this.serviceToken}`;
    if (options.onBehalfOf) headers['x-pao-on-behalf-of'] = options.onBehalfOf;
    return headers;
  }

  private async json(
    method: string,
    path: string,
    options: CallOptions,
    body?: unknown,
    extra: { timeout?: boolean; headers?: Record<string, string> } = {},
  ): Promise<JsonValue> {
    const url = `${this.baseUrl}${path}`;
    const signals = [options.signal, extra.timeout === false ? undefined : AbortSignal.timeout(this.timeoutMs)];
    const present = signals.filter((s): s is AbortSignal => s !== undefined);
    const headers = { ...this.headers(options), ...(extra.headers ?? {}) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.send(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: present.length ? AbortSignal.any(present) : undefined,
    });
    if (!response.ok) throw await errorFrom(response, method, url);
    const text = await response.text();
    return text ? (JSON.parse(text) as JsonValue) : null;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new PaoApiError(`PAO is not reachable at ${url}: ${String(error)} — check pao.baseUrl`, 503);
    }
  }
}

function normaliseEvent(parsed: unknown, sseEvent: string, sseId?: string): PaoEvent | undefined {
  if (!parsed || typeof parsed !== 'object') return undefined;
  const raw = parsed as Record<string, unknown>;
  const body =
    raw.body && typeof raw.body === 'object' ? (raw.body as PaoEvent['body']) : (raw as PaoEvent['body']);
  const id = typeof raw.id === 'number' ? raw.id : sseId !== undefined ? Number(sseId) : undefined;
  return {
    id: Number.isFinite(id) ? id : undefined,
    type: typeof raw.type === 'string' ? raw.type : sseEvent,
    componentId: typeof raw.componentId === 'string' ? raw.componentId : null,
    body,
  };
}

/** Builds an error whose message is PAO's message plus its guidance (next steps, whom to ask). */
export async function errorFrom(response: Response, method: string, url: string): Promise<PaoApiError> {
  const text = await response.text().catch(() => '');
  let body: JsonValue | undefined;
  try {
    body = JSON.parse(text) as JsonValue;
  } catch {
    body = undefined;
  }
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : text.slice(0, 500) || response.statusText;
  const parts = [`PAO refused ${method} ${url} (${response.status}): ${message}`];
  const details = [error, body as Record<string, unknown> | undefined];
  for (const holder of details) {
    const guidance = holder && describeGuidance(holder.guidance);
    if (guidance) {
      parts.push(guidance);
      break;
    }
  }
  const errors = (body as { errors?: unknown } | undefined)?.errors ?? error?.errors;
  if (Array.isArray(errors) && errors.length) {
    parts.push(
      errors
        .map(e => {
          const item = e as { path?: string; property?: string; message?: string };
          return `${item.path ?? item.property ?? ''}: ${item.message ?? JSON.stringify(e)}`;
        })
        .join('; '),
    );
  }
  if (response.status === 401 || response.status === 403) {
    parts.push('Check pao.serviceToken in app-config against PAO_SERVICE_TOKENS.');
  }
  return new PaoApiError(parts.join(' — '), response.status, body);
}

/** PAO's failure guidance ({message, nextSteps, escalation}) as one readable sentence. */
export function describeGuidance(guidance: unknown): string | undefined {
  if (!guidance) return undefined;
  if (typeof guidance === 'string') return guidance;
  if (typeof guidance !== 'object') return undefined;
  const g = guidance as {
    message?: string;
    nextSteps?: unknown;
    escalation?: { team?: string; teamName?: string; contact?: string; jiraProject?: string } | null;
  };
  const parts: string[] = [];
  if (g.message) parts.push(g.message);
  if (Array.isArray(g.nextSteps) && g.nextSteps.length) parts.push(`Next steps: ${g.nextSteps.join(' ')}`);
  const esc = g.escalation;
  const said = parts.join(' ');
  const alreadySaid = Boolean(esc?.contact && said.includes(esc.contact));
  if (esc && !alreadySaid && (esc.contact || esc.jiraProject || esc.team)) {
    const who = esc.teamName ?? esc.team ?? 'the owning team';
    const how = [esc.contact, esc.jiraProject ? `JIRA project ${esc.jiraProject}` : undefined].filter(Boolean);
    parts.push(`Escalate to ${who}${how.length ? ` (${how.join(', ')})` : ''}.`);
  }
  return parts.length ? parts.join(' ') : undefined;
}
