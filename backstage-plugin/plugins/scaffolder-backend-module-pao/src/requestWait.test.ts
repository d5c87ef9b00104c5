import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPaoRequestWaitAction } from './actions/requestWait';
import { PaoClient } from './client';
import { FakePao, json, sse } from './testing/fakePao';
import { mockContext } from './testing/mockContext';

const pao = new FakePao();
let client: PaoClient;
const requests: Record<string, any> = {};
let cancelled: string[] = [];

before(async () => {
  pao.route('GET /api/pao/v1/requests/ok', (_req, res) => json(res, 200, requests.ok));
  pao.route('GET /api/pao/v1/requests/ok/events/stream', (_req, res) =>
    sse(res, [
      { id: 1, type: 'state', body: { state: 'running', message: 'Request running' } },
      { id: 2, type: 'log', componentId: 'database', body: { level: 'info', message: 'POST /databases -> 201' } },
      { id: 3, type: 'completion', body: { state: 'completed', message: 'Request completed' } },
    ]),
  );
  pao.route('GET /api/pao/v1/requests/bad', (_req, res) => json(res, 200, requests.bad));
  pao.route('GET /api/pao/v1/requests/bad/events/stream', (_req, res) =>
    sse(res, [{ id: 7, type: 'completion', body: { state: 'failed', message: 'Request failed' } }]),
  );
  pao.route('GET /api/pao/v1/requests/slow', (_req, res) => json(res, 200, requests.slow));
  pao.route('GET /api/pao/v1/requests/slow/events/stream', (_req, res) =>
    sse(res, [{ id: 9, type: 'component', componentId: 'topic', body: { message: 'Ticket MSG-1 opened' } }], false),
  );
  let flaky = 0;
  pao.route('GET /api/pao/v1/requests/flaky', (_req, res) => {
    flaky += 1;
    if (flaky <= 2) json(res, 503, { error: { name: 'UnavailableError', message: 'PAO is restarting' } });
    else json(res, 200, { id: 'flaky', state: 'completed', components: [] });
  });
  pao.route('GET /api/pao/v1/requests/flaky/events/stream', (_req, res) =>
    sse(res, [{ id: 1, type: 'completion', body: { state: 'completed', message: 'Request completed' } }]),
  );
  pao.route('GET /api/pao/v1/requests/gone', (_req, res) => json(res, 503, { error: { message: 'down' } }));
  pao.route('POST /api/pao/v1/requests/slow/cancel', (_req, res) => {
    cancelled.push('slow');
    json(res, 200, { status: 'cancelled' });
  });
  await pao.start();
  client = new PaoClient({ baseUrl: pao.baseUrl, serviceToken: 'svc-token' });
  requests.ok = {
    id: 'ok',
    status: 'completed',
    components: [{ id: 'database', state: 'completed', outputs: { url: 'http://db.example' } }],
  };
  requests.bad = {
    id: 'bad',
    status: 'failed',
    components: [
      {
        id: 'database',
        state: 'failed',
        error: 'POST /databases answered 500',
      },
    ],
    guidance: { message: 'The backend failed.', nextSteps: ['Retry later.'], escalation: { team: 'dba', contact: 'db@x' } },
  };
  requests.slow = {
    id: 'slow',
    status: 'running',
    components: [
      { id: 'topic', state: 'waiting', actions: [{ state: 'waiting', ticket: { key: 'MSG-1', url: 'http://jira/browse/MSG-1' } }] },
    ],
  };
});
after(() => pao.stop());

test("streams PAO's events into the step log and outputs status, outputs and links", async () => {
  const ctx = mockContext({ requestId: 'ok' });
  await createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 50 }).handler(ctx);
  const lines = ctx.logs.map((l: { message: string }) => l.message);
  assert.ok(lines.includes('Request running'), lines.join('\n'));
  assert.ok(lines.includes('[database] POST /databases -> 201'));
  assert.ok(lines.includes('Request completed'));
  assert.equal(ctx.outputs.status, 'completed');
  assert.deepEqual(ctx.outputs.outputs, { database: { url: 'http://db.example' } });
  assert.deepEqual(ctx.outputs.links[1], { title: 'database.url', url: 'http://db.example' });
  const stream = pao.seen.find(s => s.url.startsWith('/api/pao/v1/requests/ok/events/stream'))!;
  assert.equal(stream.headers['x-pao-on-behalf-of'], 'user:default/jdoe');
});

test("a failed request fails the step with PAO's guidance in the message", async () => {
  const ctx = mockContext({ requestId: 'bad' });
  await assert.rejects(
    createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 50 }).handler(ctx),
    (error: Error) => {
      assert.match(error.message, /PAO request bad failed: database: POST \/databases answered 500/);
      assert.match(error.message, /Next steps: Retry later\. Escalate to dba \(db@x\)/);
      assert.match(error.message, /\/requests\/bad\)$/);
      return true;
    },
  );
});

test('a request waiting on people longer than the timeout ends the step with status and links', async () => {
  const ctx = mockContext({ requestId: 'slow', waitTimeoutSeconds: 0.2 });
  await createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 50 }).handler(ctx);
  assert.equal(ctx.outputs.status, 'running');
  assert.deepEqual(ctx.outputs.waitingOn, ['topic (ticket MSG-1)']);
  assert.ok(ctx.outputs.links.some((l: { url: string }) => l.url === 'http://jira/browse/MSG-1'));
  assert.ok(ctx.logs.some((l: { message: string }) => l.message === '[topic] Ticket MSG-1 opened'));
});

test('cancelling the Backstage task aborts the wait and cancels the PAO request', async () => {
  cancelled = [];
  const controller = new AbortController();
  const ctx = mockContext({ requestId: 'slow' }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('task cancelled')), 150);
  await assert.rejects(
    createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 50 }).handler(ctx),
    /task cancelled/,
  );
  assert.deepEqual(cancelled, ['slow']);
});

test('the summary and the ticket link are outputs for the template output block', async () => {
  const ctx = mockContext({ requestId: 'slow', waitTimeoutSeconds: 0 });
  await createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 50 }).handler(ctx);
  assert.equal(ctx.outputs.ticketsUrl, 'http://jira/browse/MSG-1');
  assert.match(ctx.outputs.summary, /^\*\*running\*\* — waits on topic \(ticket MSG-1\)/);
});

test('PAO answering 503 for a while (a restart) does not fail the step', async () => {
  const ctx = mockContext({ requestId: 'flaky' });
  await createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 20 }).handler(ctx);
  assert.equal(ctx.outputs.status, 'completed');
  assert.equal(ctx.logs.filter((l: { message: string }) => l.message.startsWith('PAO did not answer')).length, 2);
});

test('PAO unavailable for longer than the limit fails the step with the reason', async () => {
  const ctx = mockContext({ requestId: 'gone' });
  await assert.rejects(
    createPaoRequestWaitAction({ client, waitTimeoutMs: 60_000, pollMs: 20, unavailableMs: 100 }).handler(ctx),
    /\(503\): down/,
  );
});
