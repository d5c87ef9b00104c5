import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPaoRequestCreateAction } from './actions/requestCreate';
import { PaoClient } from './client';
import { FakePao, json } from './testing/fakePao';
import { mockContext } from './testing/mockContext';

const pao = new FakePao();
let client: PaoClient;

before(async () => {
  pao.route('POST /api/pao/v1/requests', (req, res) => {
    if (req.body.catalogId === 'nope') {
      json(res, 422, {
        error: { name: 'InputError', message: 'name: does not match ^[a-z]+$' },
        errors: [{ path: 'name', message: 'does not match ^[a-z]+$' }],
      });
      return;
    }
    json(res, 201, { id: 'req-42', status: 'submitted' });
  });
  await pao.start();
  client = new PaoClient({ baseUrl: pao.baseUrl, serviceToken: 'svc-token' });
});
after(() => pao.stop());

test('submits values and secrets as the initiating user with the service token', async () => {
  const action = createPaoRequestCreateAction({ client });
  const ctx = mockContext(
    { catalogId: 'bundle-webapp-standard', version: '1.0.0', values: { name: 'shop' } },
    { secrets: { backstageToken: 'user-jwt', password: 's3cret' } },
  );
  await action.handler(ctx);
  const seen = pao.seen.at(-1)!;
  assert.equal(seen.headers.authorization, 'Bearer svc-token');
  assert.equal(seen.headers['x-pao-on-behalf-of'], 'user:default/jdoe');
  assert.equal(seen.headers['idempotency-key'], 'backstage:task-1:step-1');
  assert.deepEqual(seen.body, {
    catalogId: 'bundle-webapp-standard',
    version: '1.0.0',
    values: { name: 'shop' },
    secrets: { password: 's3cret' },
  });
  assert.equal(ctx.outputs.requestId, 'req-42');
  assert.equal(ctx.outputs.status, 'submitted');
  assert.equal(ctx.outputs.requestUrl, `${pao.baseUrl}/requests/req-42`);
  assert.equal(ctx.outputs.eventsUrl, `${pao.baseUrl}/api/pao/v1/requests/req-42/events/stream`);
});

test("PAO's refusal fails the step with PAO's message and the field errors", async () => {
  const action = createPaoRequestCreateAction({ client });
  await assert.rejects(action.handler(mockContext({ catalogId: 'nope', values: {} })), (error: Error) => {
    assert.match(error.message, /\(422\): name: does not match/);
    assert.match(error.message, /name: does not match \^\[a-z\]\+\$/);
    return true;
  });
});

test('a dry run submits nothing', async () => {
  const before = pao.seen.length;
  const ctx = mockContext({ offeringId: 'x', values: {} }, { isDryRun: true });
  await createPaoRequestCreateAction({ client }).handler(ctx);
  assert.equal(pao.seen.length, before);
  assert.equal(ctx.outputs.status, 'dry-run');
});

test('an aborted task aborts the HTTP call', async () => {
  const controller = new AbortController();
  controller.abort();
  const ctx = mockContext({ offeringId: 'x', values: {} }, { signal: controller.signal });
  await assert.rejects(createPaoRequestCreateAction({ client }).handler(ctx), { name: 'AbortError' });
});
