"""Backstage-native PAO: catalog documents as Backstage entities, and the catalog and scaffolder APIs."""
