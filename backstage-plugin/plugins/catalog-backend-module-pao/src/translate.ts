import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { DeferredEntity } from '@backstage/plugin-catalog-node';

/** Where the entities of one PAO instance come from, as Backstage location refs see it. */
export function paoLocationRef(baseUrl: string): string {
  return `url:${baseUrl.replace(/\/+$/, '')}/api/catalog/entities`;
}

/**
 * Turns an entity as PAO serves it into what an entity provider may hand to the catalog: the
 * server-set fields (uid, etag, generation, relations, status) are dropped because the catalog
 * computes them, and the location annotations are set so the catalog shows and stitches it.
 */
export function toDeferredEntity(
  entity: Entity,
  options: { baseUrl: string; locationKey: string },
): DeferredEntity {
  const { uid: _uid, etag: _etag, generation: _generation, ...metadata } =
    entity.metadata as Entity['metadata'] & { generation?: number };
  const location = paoLocationRef(options.baseUrl);
  // PAO names each document's own location; the provider's location is only the fallback.
  const annotations: Record<string, string> = {
    [ANNOTATION_LOCATION]: location,
    [ANNOTATION_ORIGIN_LOCATION]: location,
    ...(metadata.annotations ?? {}),
  };
  return {
    locationKey: options.locationKey,
    entity: {
      apiVersion: entity.apiVersion,
      kind: entity.kind,
      metadata: { ...metadata, annotations },
      ...(entity.spec === undefined ? {} : { spec: entity.spec }),
    },
  };
}

/** A stable fingerprint of what would be applied, so an unchanged catalog is not re-applied. */
export function fingerprint(entities: DeferredEntity[]): string {
  const sorted = [...entities].sort((a, b) =>
    stringifyEntityRef(a.entity).localeCompare(stringifyEntityRef(b.entity)),
  );
  return JSON.stringify(sorted.map(e => e.entity));
}
