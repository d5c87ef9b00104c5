// Validates every entity PAO serves with Backstage's own code: the catalog-model entity policies the
// catalog backend applies, the Group kind validator, and scaffolder-common's v1beta3 Template validator.
// Usage: node validate-entities.mjs <PAO base URL>   Prints a JSON report; exit code 1 if any entity fails.
import { CatalogClient } from '@backstage/catalog-client';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  groupEntityV1alpha1Validator,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error('usage: node validate-entities.mjs <PAO base URL>');
  process.exit(2);
}
const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${baseUrl}/api/catalog` } });

// What the catalog backend enforces on an entity as a provider emits it (before relations are stitched).
const policies = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);
const kindValidators = { template: templateEntityV1beta3Validator, group: groupEntityV1alpha1Validator };

const { items } = await client.getEntities();
const report = { checked: 0, kinds: {}, failures: [] };
for (const entity of items) {
  const ref = stringifyEntityRef(entity);
  report.checked += 1;
  report.kinds[entity.kind] = (report.kinds[entity.kind] ?? 0) + 1;
  try {
    // The stitched entity (relations, uid, etag) must still match the Entity schema.
    await new SchemaValidEntityPolicy().enforce(entity);
    const { relations, ...unprocessed } = entity;
    const enforced = await policies.enforce(unprocessed);
    if (!enforced) throw new Error('rejected by the entity policies');
    const validator = kindValidators[entity.kind.toLowerCase()];
    if (!validator) throw new Error(`no validator for kind ${entity.kind}`);
    if (!(await validator.check(entity))) throw new Error(`not recognised as a ${entity.kind}`);
    if (!Array.isArray(relations) || relations.some(r => !r.type || !r.targetRef)) {
      throw new Error('relations must be [{type, targetRef}]');
    }
  } catch (error) {
    report.failures.push({ ref, error: String(error?.message ?? error) });
  }
}
console.log(JSON.stringify(report));
process.exit(report.failures.length ? 1 : 0);
