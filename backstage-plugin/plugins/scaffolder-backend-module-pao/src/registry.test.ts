import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigReader } from '@backstage/config';
import { registryActions } from './actions/registry';
import { PaoClient } from './client';
import { readPaoScaffolderConfig } from './config';
import { FakePao, json } from './testing/fakePao';
import { mockContext } from './testing/mockContext';

const pao = new FakePao();
let client: PaoClient;

const cookiecutter = {
  id: 'pao:cookiecutter',
  description: 'Renders a cookiecutter template',
  supportsDryRun: true,
  examples: [{ description: 'render', example: 'steps: []' }],
  schema: {
    input: { type: 'object', required: ['template'], properties: { template: { type: 'string' } } },
    output: { type: 'object', properties: { path: { type: 'string' } } },
  },
};

before(async () => {
  pao.route('GET /api/pao/v1/actions', (_req, res) =>
    json(res, 200, [cookiecutter, { id: 'pao:request:create', description: 'clash' }]),
  );
  pao.route('POST /api/pao/v1/actions/pao:cookiecutter:invoke', (req, res) => {
    if (req.body.input.template === 'broken') {
      json(res, 400, { error: { name: 'ActionInputError', message: 'template broken not found' } });
      return;
    }
    json(res, 200, {
      output: { path: 'svc', files: ['svc/README.md'] },
      files: [
        { path: 'svc/README.md', base64Content: Buffer.from('# shop\n').toString('base64') },
        { path: 'svc/run.sh', base64Content: Buffer.from('#!/bin/sh\n').toString('base64'), executable: true },
      ],
      logs: [{ level: 'info', message: 'rendered 2 files' }],
    });
  });
  await pao.start();
  client = new PaoClient({ baseUrl: pao.baseUrl, serviceToken: 'svc-token' });
});
after(() => pao.stop());

test("PAO's registry becomes Backstage actions with the JSON Schemas passed through, minus reserved ids", async () => {
  const actions = registryActions(await client.listActions(), client, new Set(['pao:request:create']));
  assert.deepEqual(actions.map(a => a.id), ['pao:cookiecutter']);
  assert.deepEqual(actions[0].schema?.input, cookiecutter.schema.input);
  assert.equal(actions[0].supportsDryRun, true);
});

test('a run sends the workspace to PAO and writes the returned files back into it', async () => {
  const [action] = registryActions([cookiecutter], client, new Set());
  const ctx = mockContext({ template: 'service-python' }, { secrets: { backstageToken: 't', gitToken: 'g' } });
  mkdirSync(join(ctx.workspacePath, 'docs'));
  writeFileSync(join(ctx.workspacePath, 'docs', 'in.txt'), 'before');
  await action.handler(ctx);
  const seen = pao.seen.at(-1)!;
  assert.equal(seen.headers['x-pao-on-behalf-of'], 'user:default/jdoe');
  assert.deepEqual(seen.body.input, { template: 'service-python' });
  assert.deepEqual(seen.body.secrets, { gitToken: 'g' });
  assert.equal(seen.body.dryRun, false);
  assert.equal(seen.body.attemptKey, 'backstage:task-1:step-1');
  assert.deepEqual(seen.body.files, [
    { path: 'docs/in.txt', base64Content: Buffer.from('before').toString('base64'), executable: false },
  ]);
  assert.equal(readFileSync(join(ctx.workspacePath, 'svc', 'README.md'), 'utf8'), '# shop\n');
  assert.ok(statSync(join(ctx.workspacePath, 'svc', 'run.sh')).mode & 0o100);
  assert.equal(ctx.outputs.path, 'svc');
  assert.ok(ctx.logs.some((l: { message: string }) => l.message === 'rendered 2 files'));
});

test('a dry run is passed to PAO as dryRun', async () => {
  const [action] = registryActions([cookiecutter], client, new Set());
  await action.handler(mockContext({ template: 'service-python' }, { isDryRun: true }));
  assert.equal(pao.seen.at(-1)!.body.dryRun, true);
});

test("PAO's error fails the step with PAO's message", async () => {
  const [action] = registryActions([cookiecutter], client, new Set());
  await assert.rejects(action.handler(mockContext({ template: 'broken' })), /template broken not found/);
});

test('config: waitTimeout and requestTimeout accept durations, defaults apply', () => {
  const settings = readPaoScaffolderConfig(
    new ConfigReader({ pao: { baseUrl: 'http://pao/', scaffolder: { waitTimeout: { minutes: 2 } } } }),
  );
  assert.equal(settings.baseUrl, 'http://pao');
  assert.equal(settings.waitTimeoutMs, 120_000);
  assert.equal(settings.requestTimeoutMs, 60_000);
  assert.equal(settings.registryActions, true);
  assert.throws(() => readPaoScaffolderConfig(new ConfigReader({})), /pao/);
});

test('returned files cannot escape the workspace', async () => {
  const { writeWorkspace } = await import('./workspace');
  const ctx = mockContext({});
  await assert.rejects(
    writeWorkspace(ctx.workspacePath, [{ path: '../evil', base64Content: '' }]),
    /outside/i,
  );
});
