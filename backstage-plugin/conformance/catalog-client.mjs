// Drives PAO's /api/catalog with Backstage's own CatalogClient and prints what it got back as JSON, so
// the Python test can compare the answers with the catalog it served.
// Usage: node catalog-client.mjs <PAO base URL>
import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import { stringifyEntityRef } from '@backstage/catalog-model';

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node catalog-client.mjs <PAO base URL>');
  process.exit(2);
}
const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${baseUrl}/api/catalog` } });
const refs = entities => entities.map(e => stringifyEntityRef(e)).sort();
const out = {};

out.templates = refs((await client.getEntities({ filter: { kind: 'template' } })).items);
out.groups = refs((await client.getEntities({ filter: { kind: 'Group' } })).items);
out.anyOf = refs(
  (await client.getEntities({ filter: [{ kind: 'group' }, { kind: 'template', 'spec.type': 'databases' }] })).items,
);
out.inValues = refs(
  (await client.getEntities({ filter: { kind: 'template', 'spec.type': ['databases', 'security'] } })).items,
);
out.exists = refs(
  (await client.getEntities({ filter: { 'metadata.annotations.pao.dev/components': CATALOG_FILTER_EXISTS } })).items,
);
out.ownedBy = refs(
  (await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/platform-databases' } })).items,
);
out.fields = (
  await client.getEntities({ filter: { kind: 'group' }, fields: ['kind', 'metadata.name'] })
).items;
out.ordered = (
  await client.getEntities({ filter: { kind: 'template' }, order: { field: 'metadata.name', order: 'desc' } })
).items.map(e => e.metadata.name);

// queryEntities, paged to the end by following cursors.
const pages = [];
let response = await client.queryEntities({
  filter: { kind: 'template' },
  limit: 3,
  orderFields: { field: 'metadata.name', order: 'asc' },
  fields: ['metadata.name'],
});
out.totalItems = response.totalItems;
pages.push(response.items.map(e => e.metadata.name));
while (response.pageInfo.nextCursor) {
  response = await client.queryEntities({ cursor: response.pageInfo.nextCursor, limit: 3, fields: ['metadata.name'] });
  pages.push(response.items.map(e => e.metadata.name));
}
out.pages = pages;
out.streamed = [];
for await (const page of client.streamEntities({ filter: { kind: 'template' }, pageSize: 4 })) {
  out.streamed.push(...page.map(e => stringifyEntityRef(e)));
}
out.streamed.sort();

const byRef = await client.getEntityByRef('Template:default/DATABASE-postgresql-standard');
out.byRef = byRef ? stringifyEntityRef(byRef) : null;
out.missing = (await client.getEntityByRef('template:default/no-such-template')) ?? null;
out.byRefs = (
  await client.getEntitiesByRefs({
    entityRefs: ['group:default/platform-databases', 'template:default/nope', 'template:default/bundle-webapp-standard'],
    fields: ['kind', 'metadata.name'],
  })
).items;
out.facets = (
  await client.getEntityFacets({
    facets: ['kind', 'spec.type', 'metadata.tags', 'relations.ownedBy'],
    filter: { kind: 'template' },
  })
).facets;
console.log(JSON.stringify(out));
