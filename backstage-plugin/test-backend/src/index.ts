// A headless Backstage backend: catalog + scaffolder + PAO's modules, nothing else. It is what a portal's
// packages/backend/src/index.ts looks like after adding PAO (docs/backstage.md), and what
// tests/integration/test_backstage_backend.py starts against a live PAO.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
// The guest sign-in gives tests a real Backstage user token, so tasks run on behalf of a user.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage/plugin-catalog-backend-module-unprocessed'));
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@pao/plugin-catalog-backend-module-pao'));
backend.add(import('@pao/plugin-scaffolder-backend-module-pao'));
backend.start();
