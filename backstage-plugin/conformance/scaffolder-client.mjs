// Drives PAO's /api/scaffolder with Backstage's own ScaffolderClient (and CatalogClient to fetch a
// Template) and prints what it got back as JSON for the Python test to check.
// Usage: node scaffolder-client.mjs <PAO base URL>
import { CatalogClient } from '@backstage/catalog-client';
import { ScaffolderClient } from '@backstage/plugin-scaffolder-common';

// ScaffolderClient streams with @microsoft/fetch-event-source, browser code that touches `document`
// and `window`; give it the two globals a browser tab would have.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node scaffolder-client.mjs <PAO base URL>');
  process.exit(2);
}
const discoveryApi = { getBaseUrl: async pluginId => `${baseUrl}/api/${pluginId}` };
const identityApi = {
  getBackstageIdentity: async () => ({ type: 'user', userEntityRef: 'user:default/dev', ownershipEntityRefs: [] }),
  getCredentials: async () => ({}),
};
const options = { discoveryApi, fetchApi: { fetch: globalThis.fetch }, identityApi, scmIntegrationsApi: {} };
const client = new ScaffolderClient(options);
const polling = new ScaffolderClient({ ...options, useLongPollingLogs: true });
const catalog = new CatalogClient({ discoveryApi });

const collect = (observable, timeoutMs = 60000) =>
  new Promise((resolve, reject) => {
    const events = [];
    const timer = setTimeout(() => reject(new Error(`no completion within ${timeoutMs} ms`)), timeoutMs);
    observable.subscribe({
      next: event => events.push(event),
      error: error => {
        clearTimeout(timer);
        reject(error);
      },
      complete: () => {
        clearTimeout(timer);
        resolve(events);
      },
    });
  });

const TEMPLATE = 'template:default/database-postgresql-standard';
const values = { name: 'client-db', basic: { instanceClass: 'small', storageSize: 40 } };
const out = {};

const schema = await client.getTemplateParameterSchema(TEMPLATE);
out.parameterSchema = { title: schema.title, steps: schema.steps.map(s => s.title) };
out.actions = (await client.listActions()).map(a => a.id);
out.extensions = await client.listTemplatingExtensions();

const template = await catalog.getEntityByRef(TEMPLATE);
const dry = await client.dryRun({ template, values, secrets: {}, directoryContents: [] });
out.dryRun = { steps: dry.steps.map(s => ({ id: s.id, action: s.action })), log: dry.log.length };

const { taskId } = await client.scaffold({ templateRef: TEMPLATE, values, secrets: {} });
out.taskId = taskId;
const streamed = await collect(client.streamLogs({ taskId }));
out.streamed = streamed.map(e => ({ id: e.id, type: e.type, stepId: e.body?.stepId, status: e.body?.status }));
out.completion = streamed.at(-1)?.body ?? null;
const polled = await collect(polling.streamLogs({ taskId }));
out.polled = polled.map(e => e.id);
const task = await client.getTask(taskId);
out.task = { id: task.id, status: task.status, steps: task.spec.steps.map(s => ({ id: s.id, name: s.name })) };
const listed = await client.listTasks({ filterByOwnership: 'owned' });
out.listed = { totalTasks: listed.totalTasks, ids: listed.tasks.map(t => t.id) };

const secret = 'zz-scaffolder-client-secret';
const secretTask = await client.scaffold({
  templateRef: 'template:default/security-secret-standard',
  values: { name: 'client-secret', secret: { value: '*'.repeat(secret.length), rotationDays: 30 } },
  secrets: { value: secret },
});
const secretEvents = await collect(client.streamLogs({ taskId: secretTask.taskId }));
out.secretTask = {
  completion: secretEvents.at(-1)?.body?.message,
  leaked: JSON.stringify([secretEvents, await client.getTask(secretTask.taskId)]).includes(secret),
};
console.log(JSON.stringify(out));
