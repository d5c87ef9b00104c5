import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeGuidance } from './client';
import { eventLine, failureMessage, requestLinks, requestOutputs, waitingOn } from './requestState';

const guidance = {
  failureClass: 'backend_unavailable',
  message: 'The provisioning backend did not answer after 3 tries.',
  nextSteps: ['Retry in a few minutes.'],
  escalation: { team: 'platform-databases', teamName: 'Databases', contact: 'db@example.com', jiraProject: 'DB' },
};

test('guidance reads as message, next steps and whom to escalate to', () => {
  assert.equal(
    describeGuidance(guidance),
    'The provisioning backend did not answer after 3 tries. Next steps: Retry in a few minutes. Escalate to Databases (db@example.com, JIRA project DB).',
  );
});

test('the failure message names the failed component, its error and its guidance', () => {
  const message = failureMessage({
    id: 'r1',
    status: 'failed',
    components: [
      { id: 'database', state: 'failed', error: { message: 'POST /databases answered 500' }, guidance },
      { id: 'app', state: 'pending' },
    ],
  });
  assert.match(message, /^PAO request r1 failed: database: POST \/databases answered 500\. The provisioning backend/);
  assert.match(message, /Escalate to Databases/);
  assert.doesNotMatch(message, /app/);
});

test('without component details the completion event explains the failure', () => {
  const message = failureMessage(
    { id: 'r2', state: 'failed' },
    { type: 'completion', body: { message: 'Request failed', guidance } },
  );
  assert.match(message, /Request failed/);
  assert.match(message, /Retry in a few minutes/);
});

test('components waiting on a ticket, or a scheduled request, count as waiting on people', () => {
  assert.deepEqual(
    waitingOn({ id: 'r', status: 'running', components: [{ id: 'topic', state: 'waiting', ticket: { key: 'MSG-1' } }] }),
    ['topic (ticket MSG-1)'],
  );
  assert.deepEqual(waitingOn({ id: 'r', status: 'scheduled' }), ['a change window or an approval']);
  assert.deepEqual(waitingOn({ id: 'r', status: 'running', components: [{ id: 'a', state: 'running' }] }), []);
});

test('links hold the PAO page, tickets and URL outputs once each', () => {
  const links = requestLinks(
    {
      id: 'r',
      status: 'completed',
      components: [{ id: 'topic', state: 'completed', ticket: { key: 'MSG-1', url: 'http://jira/browse/MSG-1' } }],
      outputs: { app: { url: 'http://app.example' }, secretRef: 'vault:x', again: 'http://pao/requests/r' },
    },
    'http://pao/requests/r',
  );
  assert.deepEqual(links, [
    { title: 'Request in PAO', url: 'http://pao/requests/r' },
    { title: 'Ticket MSG-1', url: 'http://jira/browse/MSG-1' },
    { title: 'app.url', url: 'http://app.example' },
  ]);
});

test('outputs fall back to per-component outputs', () => {
  assert.deepEqual(
    requestOutputs({ id: 'r', components: [{ id: 'db', outputs: { host: 'h' } }, { id: 'app' }] }),
    { db: { host: 'h' } },
  );
});

test('event lines carry the component and the level', () => {
  assert.deepEqual(eventLine({ type: 'log', componentId: 'db', body: { message: 'boom', level: 'error' } }), {
    level: 'error',
    message: '[db] boom',
  });
  assert.deepEqual(eventLine({ type: 'state', body: { state: 'running' } }), { level: 'info', message: 'state: running' });
});
