import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import { PaoCatalogClient } from './client';
import { readPaoCatalogConfig } from './config';
import { PaoEntityProvider } from './provider';

/** A loopback PAO: serves `entities` and `version`, records requests. */
let entities: Entity[] = [];
let version: string | undefined = 'v1';
let failing = false;
const seen: { url: string; auth?: string }[] = [];
let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (failing) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { name: 'Error', message: 'catalog is reloading' } }));
      return;
    }
    if (req.url?.startsWith('/api/catalog/entities')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(entities));
      return;
    }
    if (req.url === '/api/pao/v1/catalog/etag' && version !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json', etag: `"${version}"` });
      res.end(JSON.stringify({ etag: version }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>(resolve => server.close(() => resolve())));

const template = (name: string, type = 'service'): Entity => ({
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: { name, uid: `uid-${name}` },
  spec: { type, steps: [] },
});
const group = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name },
  spec: { type: 'team', children: [] },
});

function setup() {
  const mutations: EntityProviderMutation[] = [];
  const logs: string[] = [];
  const logger: any = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: () => {}, debug: () => {} };
  const provider = new PaoEntityProvider({
    client: new PaoCatalogClient({ baseUrl, serviceToken: 'svc' }),
    baseUrl,
    logger,
    kinds: ['template', 'group'],
  });
  return { provider, mutations, logs, connect: () => provider.connect({ applyMutation: async m => void mutations.push(m), refresh: async () => {} }) };
}

test('every Template and Group is applied as one full mutation with a stable location key', async () => {
  entities = [template('a'), group('team-a')];
  const { provider, mutations, connect } = setup();
  await connect();
  assert.deepEqual(await provider.refresh(), { applied: true, count: 2 });
  assert.equal(mutations.length, 1);
  const mutation = mutations[0];
  assert.equal(mutation.type, 'full');
  if (mutation.type !== 'full') return;
  assert.deepEqual(mutation.entities.map(e => e.entity.metadata.name), ['a', 'team-a']);
  assert.ok(mutation.entities.every(e => e.locationKey === `pao:${baseUrl}`));
  const read = seen.find(s => s.url.startsWith('/api/catalog/entities'))!;
  assert.equal(read.url, '/api/catalog/entities?filter=kind%3Dtemplate&filter=kind%3Dgroup');
  assert.equal(read.auth, 'Bearer svc');
});

test('an unchanged catalog is not re-applied; an edit or a removal is', async () => {
  entities = [template('a'), template('b')];
  const { provider, mutations, connect } = setup();
  await connect();
  await provider.refresh();
  assert.deepEqual(await provider.refresh(), { applied: false, count: 2 });
  entities = [template('a', 'website')];
  assert.deepEqual(await provider.refresh(), { applied: true, count: 1 });
  const last = mutations.at(-1)!;
  assert.ok(last.type === 'full' && last.entities.length === 1 && last.entities[0].entity.spec?.type === 'website');
  assert.equal(mutations.length, 2);
});

test('the change poll re-reads only when the catalog version moved', async () => {
  entities = [template('a')];
  version = 'v1';
  const { provider, mutations, connect } = setup();
  await connect();
  assert.equal(await provider.checkForChanges(), true);
  const reads = () => seen.filter(s => s.url.startsWith('/api/catalog/entities')).length;
  const before = reads();
  assert.equal(await provider.checkForChanges(), false);
  assert.equal(reads(), before);
  entities = [template('a'), template('c')];
  version = 'v2';
  assert.equal(await provider.checkForChanges(), true);
  assert.equal(mutations.length, 2);
});

test('without a version route every poll re-reads but applies only changes', async () => {
  entities = [template('a')];
  version = undefined;
  const { provider, mutations, connect } = setup();
  await connect();
  assert.equal(await provider.checkForChanges(), true);
  assert.equal(await provider.checkForChanges(), false);
  assert.equal(mutations.length, 1);
  version = 'v1';
});

test('PAO failing never empties the catalog: nothing is applied and the error names PAO', async () => {
  entities = [template('a')];
  const { provider, mutations, connect } = setup();
  await connect();
  failing = true;
  try {
    await assert.rejects(provider.refresh({ force: true }), /answered 500: catalog is reloading/);
    assert.equal(await provider.checkForChanges(), false);
  } finally {
    failing = false;
  }
  assert.equal(mutations.length, 0);
});

test('config: defaults, a schedule from config, and the change poll switched off', () => {
  const defaults = readPaoCatalogConfig(new ConfigReader({ pao: { baseUrl: 'http://pao/' } }));
  assert.equal(defaults.baseUrl, 'http://pao');
  assert.deepEqual(defaults.kinds, ['template', 'group']);
  assert.deepEqual(defaults.changePollInterval, { seconds: 3 });
  const custom = readPaoCatalogConfig(
    new ConfigReader({
      pao: {
        baseUrl: 'http://pao',
        catalog: { schedule: { frequency: { minutes: 1 }, timeout: { seconds: 30 } }, changePollInterval: false },
      },
    }),
  );
  assert.deepEqual(custom.schedule.frequency, { minutes: 1 });
  assert.equal(custom.changePollInterval, undefined);
});
