import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprint, paoLocationRef, toDeferredEntity } from './translate';

const fromPao = {
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: {
    name: 'database-postgresql-standard',
    namespace: 'default',
    uid: '1b2c',
    etag: 'abc',
    generation: 3,
    annotations: { 'pao.dev/catalog-id': 'database-postgresql-standard' },
  },
  spec: { type: 'database', owner: 'group:default/platform-databases', steps: [] },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/platform-databases' }],
  status: { items: [] },
};

test('server-set fields are not sent and the location annotations are set', () => {
  const deferred = toDeferredEntity(fromPao as any, { baseUrl: 'http://pao:8000/', locationKey: 'pao:x' });
  assert.equal(deferred.locationKey, 'pao:x');
  assert.deepEqual(Object.keys(deferred.entity).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.equal('uid' in deferred.entity.metadata, false);
  assert.equal('etag' in deferred.entity.metadata, false);
  assert.equal('generation' in deferred.entity.metadata, false);
  assert.deepEqual(deferred.entity.metadata.annotations, {
    'backstage.io/managed-by-location': 'url:http://pao:8000/api/catalog/entities',
    'backstage.io/managed-by-origin-location': 'url:http://pao:8000/api/catalog/entities',
    'pao.dev/catalog-id': 'database-postgresql-standard',
  });
  assert.deepEqual(deferred.entity.spec, fromPao.spec);
});

test("PAO's own document locations win over the provider's fallback", () => {
  const own = {
    ...fromPao,
    metadata: {
      ...fromPao.metadata,
      annotations: { 'backstage.io/managed-by-location': 'url:http://pao/api/pao/v1/catalog/x' },
    },
  };
  const deferred = toDeferredEntity(own as any, { baseUrl: 'http://pao', locationKey: 'k' });
  assert.equal(deferred.entity.metadata.annotations!['backstage.io/managed-by-location'], 'url:http://pao/api/pao/v1/catalog/x');
  assert.equal(deferred.entity.metadata.annotations!['backstage.io/managed-by-origin-location'], paoLocationRef('http://pao'));
});

test('the fingerprint ignores order and server-set fields but sees edits', () => {
  const a = toDeferredEntity(fromPao as any, { baseUrl: 'http://pao', locationKey: 'k' });
  const b = toDeferredEntity({ ...fromPao, kind: 'Group', metadata: { name: 'team' } } as any, {
    baseUrl: 'http://pao',
    locationKey: 'k',
  });
  const again = toDeferredEntity({ ...fromPao, metadata: { ...fromPao.metadata, uid: 'other' } } as any, {
    baseUrl: 'http://pao',
    locationKey: 'k',
  });
  assert.equal(fingerprint([a, b]), fingerprint([b, again]));
  const edited = toDeferredEntity({ ...fromPao, spec: { ...fromPao.spec, type: 'db' } } as any, {
    baseUrl: 'http://pao',
    locationKey: 'k',
  });
  assert.notEqual(fingerprint([a, b]), fingerprint([edited, b]));
});
