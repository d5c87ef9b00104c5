import { JsonObject } from '@backstage/types';
import { describeGuidance, PaoEvent, PaoRequest } from './client';

/** Reading PAO's request JSON: states, what it waits on, why it failed, which links it has. Pure. */

export const COMPLETED_STATES = new Set(['completed']);
/** `failed` waits for a person in PAO (retry, escalate), but for a Backstage step it is the end. */
export const FAILED_STATES = new Set(['failed', 'aborted', 'cancelled']);

type Component = {
  id?: string;
  componentId?: string;
  state?: string;
  status?: string;
  error?: unknown;
  guidance?: unknown;
  ticket?: { key?: string; url?: string } | null;
  outputs?: Record<string, unknown>;
  actions?: { ticket?: { key?: string; url?: string } | null; ticketUrl?: string; ticketKey?: string; state?: string }[];
};

/** A component's tickets, whether PAO puts them on the component or on its actions. */
function tickets(component: Component): { key?: string; url?: string }[] {
  const found: { key?: string; url?: string }[] = [];
  if (component.ticket?.url || component.ticket?.key) found.push(component.ticket);
  for (const action of Array.isArray(component.actions) ? component.actions : []) {
    if (action.ticket?.url || action.ticket?.key) found.push(action.ticket);
    else if (action.ticketUrl || action.ticketKey) found.push({ key: action.ticketKey, url: action.ticketUrl });
  }
  return found;
}

/** PAO's own state (`state`); `status` is only its Backstage-task mapping, so it comes second. */
export function requestState(request: PaoRequest): string {
  return String(request.state ?? request.status ?? 'unknown').toLowerCase();
}

function components(request: PaoRequest): Component[] {
  return Array.isArray(request.components) ? (request.components as Component[]) : [];
}

function componentState(component: Component): string {
  return String(component.state ?? component.status ?? '').toLowerCase();
}

function componentName(component: Component): string {
  return String(component.id ?? component.componentId ?? 'component');
}

/** The components (or the whole request) currently waiting on people: a ticket, an approval, a window. */
export function waitingOn(request: PaoRequest): string[] {
  const waiting = components(request)
    .filter(c => componentState(c) === 'waiting')
    .map(c => {
      const keys = tickets(c)
        .map(t => t.key)
        .filter(Boolean);
      return keys.length ? `${componentName(c)} (ticket ${keys.join(', ')})` : componentName(c);
    });
  if (waiting.length === 0 && requestState(request) === 'scheduled') return ['a change window or an approval'];
  return waiting;
}

function errorMessage(error: unknown): string | undefined {
  if (!error) return undefined;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return undefined;
}

/** One message saying what failed and PAO's guidance for it, for the failed Backstage step. */
export function failureMessage(request: PaoRequest, lastEvent?: PaoEvent): string {
  const state = requestState(request);
  const parts: string[] = [];
  for (const component of components(request)) {
    if (componentState(component) !== 'failed') continue;
    const what = errorMessage(component.error) ?? 'failed';
    const guidance = describeGuidance(component.guidance);
    parts.push(`${componentName(component)}: ${what}${guidance ? `. ${guidance}` : ''}`);
  }
  const requestGuidance = describeGuidance(request.guidance);
  const requestError = errorMessage(request.error);
  if (parts.length === 0 && requestError) parts.push(requestError);
  if (requestGuidance && !parts.some(p => p.includes(requestGuidance))) parts.push(requestGuidance);
  if (parts.length === 0 && lastEvent?.body) {
    const eventGuidance = describeGuidance(lastEvent.body.guidance);
    if (lastEvent.body.message) parts.push(lastEvent.body.message);
    if (eventGuidance) parts.push(eventGuidance);
  }
  const reason = parts.length ? parts.join(' | ') : 'no reason given';
  return `PAO request ${request.id} ${state}: ${reason}`;
}

/** The request's non-secret outputs as one object (request-level, else merged per component). */
export function requestOutputs(request: PaoRequest): JsonObject {
  if (request.outputs && typeof request.outputs === 'object' && !Array.isArray(request.outputs)) {
    return request.outputs as JsonObject;
  }
  const merged: JsonObject = {};
  for (const component of components(request)) {
    if (component.outputs && typeof component.outputs === 'object') {
      merged[componentName(component)] = component.outputs as JsonObject;
    }
  }
  return merged;
}

/** Links for the Backstage task output: PAO's page, tickets, and URL-valued outputs. */
export function requestLinks(request: PaoRequest, requestUrl: string): { title: string; url: string }[] {
  const links = [{ title: 'Request in PAO', url: requestUrl }];
  const seen = new Set([requestUrl]);
  const add = (title: string, url: unknown) => {
    if (typeof url === 'string' && /^https?:\/\//.test(url) && !seen.has(url)) {
      seen.add(url);
      links.push({ title, url });
    }
  };
  for (const component of components(request)) {
    for (const ticket of tickets(component)) add(`Ticket ${ticket.key ?? componentName(component)}`, ticket.url);
  }
  const walk = (prefix: string, value: unknown) => {
    if (typeof value === 'string') add(prefix, value);
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, inner);
    }
  };
  walk('', requestOutputs(request));
  if (Array.isArray(request.links)) {
    for (const link of request.links as { title?: string; url?: string }[]) add(link.title ?? 'Link', link.url);
  }
  return links;
}

/** One log line for a PAO event, prefixed with its component. */
export function eventLine(event: PaoEvent): { level: 'info' | 'warn' | 'error'; message: string } {
  const message = event.body.message ?? `${event.type}${event.body.state ? `: ${event.body.state}` : ''}`;
  const prefix = event.componentId ? `[${event.componentId}] ` : '';
  const raw = String(event.body.level ?? '').toLowerCase();
  const failed = String(event.body.state ?? '').toLowerCase() === 'failed';
  const level = raw === 'error' || failed ? 'error' : raw === 'warn' || raw === 'warning' ? 'warn' : 'info';
  return { level, message: `${prefix}${message}` };
}

/** Where a person follows the request's tickets: the one ticket, or PAO's page when there are several. */
export function ticketsUrl(request: PaoRequest, requestUrl: string): string | undefined {
  const urls = new Set<string>();
  for (const component of components(request)) {
    for (const ticket of tickets(component)) if (ticket.url) urls.add(ticket.url);
  }
  if (urls.size === 0) return undefined;
  return urls.size === 1 ? [...urls][0] : requestUrl;
}

/** A short Markdown summary for the task's output text: state, components, plain outputs. */
export function requestSummary(request: PaoRequest, waiting?: string[]): string {
  const state = requestState(request);
  const lines = [`**${state}**${waiting?.length ? ` — waits on ${waiting.join(', ')}` : ''}`];
  const parts = components(request).map(c => `${componentName(c)}: ${componentState(c) || 'unknown'}`);
  if (parts.length) lines.push('', ...parts.map(p => `- ${p}`));
  const outputs = Object.entries(requestOutputs(request)).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v));
  if (outputs.length) lines.push('', ...outputs.map(([k, v]) => `- \`${k}\`: ${String(v)}`));
  return lines.join('\n');
}
