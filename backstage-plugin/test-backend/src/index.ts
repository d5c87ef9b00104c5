// A headless Backstage backend: catalog + scaffolder + PAO's modules, nothing else. It is what a portal's
// packages/backend/src/index.ts looks like after adding PAO (docs/backstage.md), and what
// tests/integration/test_backstage_backend.py starts against a live PAO.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage/plugin-catalog-backend-module-unprocessed'));
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@pao/plugin-catalog-backend-module-pao'));
backend.add(import('@pao/plugin-scaffolder-backend-module-pao'));
backend.start();
