# ruff: noqa: E501  (the document templates below are YAML lines, kept verbatim)
"""Benchmark: `pao validate` on 1,000 generated documents vs. parsing the same files with PyYAML's C loader.

Run: `make bench` (or `.venv/bin/python bench/validate.py [--documents N] [--repeat R]`). Prints
documents/s for both and the ratio. Target: validation ≤ 3x the bare parse and < 2 s for 1,000 documents.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pao_backend.catalog.report import validate_paths  # noqa: E402

CATEGORIES = {
    "databases": ("platform-databases", "DBA", "database"),
    "compute": ("platform-compute", "CMP", "compute"),
    "security": ("platform-security", "SEC", "security"),
    "messaging": ("platform-messaging", "MSG", "messaging"),
    "networking": ("platform-networking", "NET", "networking"),
    "storage": ("platform-storage", "STO", "storage"),
}

TEAMS = """schemaVersion: catalog/v1
teams:
{teams}
"""

ITEM = """# yaml-language-server: $schema=../../schemas/catalog/v1/catalog-item.schema.json
schemaVersion: catalog/v1
kind: CatalogItem
metadata:
  id: {id}
  name: Generated Offering {n}
  description: >-
    A generated offering number {n} with a realistic form and two action lists, used to measure how fast
    the validator checks a large catalog.
  version: 1.{n}.0
  category: {category}
  owner: {{team: {team}, contact: team@example.com}}
  tags: [generated, bench]
  defaultPort: "{port}"
input:
  form:
    name: Resource Name
    type: string
    required: true
    validation: {{pattern: "^[a-z][a-z0-9-]{{2,28}}[a-z0-9]$"}}
    description: Lowercase letters, digits and dashes.
    groups:
      - id: basic
        name: Basic Configuration
        fields:
          - {{id: size, name: Size, type: select, enum: [small, medium, large], default: small}}
          - {{id: storageSize, name: Storage (GB), type: number, validation: {{min: 20, max: 2000}}, default: 20}}
          - {{id: ownerEmail, name: Owner Email, type: email}}
          - {{id: goLive, name: Go-live, type: date, validation: {{min: "2025-01-01"}}}}
      - id: advanced
        name: Advanced
        fields:
          - {{id: highAvailability, name: High Availability, type: boolean, default: false}}
          - {{id: extensions, name: Extensions, type: multiselect, enum: [a, b, c, d], default: [], validation: {{max: 3}}}}
          - {{id: notes, name: Notes, type: textarea, validation: {{max: 2000}}}}
          - {{id: token, name: Token, type: password, validation: {{max: 200}}}}
fulfillment:
  strategy: {{mode: automatic}}
  manual:
    actions:
      - type: jira-ticket
        config:
          ticket:
            project: {jira}
            issueType: Task
            summaryTemplate: "Offering {{{{.current.name}}}} ({{{{.current.basic.size}}}}) for {{{{.system.user.email}}}}"
            descriptionTemplate: |
              Please create {{{{.current.name}}}} with {{{{.current.basic.storageSize}}}} GB.
              High availability: {{{{.current.advanced.highAvailability}}}}
              Port: {{{{.metadata.{id}.defaultPort}}}}; next to {{{{.metadata.{upstream}.name}}}}
              Requested by {{{{.system.user.name}}}} ({{{{.system.user.email}}}}), request {{{{.system.requestId}}}}.
            priority: Medium
            labels: [pao]
        outputs:
          {output}: ticket.fields.customfield_10050
  automatic:
    actions:
      - type: rest-api
        config:
          endpoint: {{base: provisioner, url: "/things/{{{{.current.name}}}}", method: POST}}
          headers: {{X-Request-Id: "{{{{.system.requestId}}}}"}}
          body:
            type: json
            contentTemplate: >-
              {{"name": "{{{{.current.name}}}}", "size": "{{{{.current.basic.size}}}}",
              "storageGb": {{{{.current.basic.storageSize}}}}, "ha": {{{{.current.advanced.highAvailability}}}},
              "upstream": "{{{{.metadata.{upstream}.owner.team}}}}"}}
          retry: {{attempts: 3, backoff: exponential}}
          timeout: 30
        outputs:
          {output}: response.body.url
          {output}Id: response.body.id
      - type: rest-api
        config:
          endpoint: {{base: provisioner, url: "/things/{{{{.output.{output}Id}}}}/ready", method: GET}}
        outputs:
          {output}Status: response.status
"""

BUNDLE = """# yaml-language-server: $schema=../../schemas/catalog/v1/catalog-bundle.schema.json
schemaVersion: catalog/v1
kind: CatalogBundle
metadata:
  id: {id}
  name: Generated Stack {n}
  description: >-
    A generated stack number {n} chaining three generated items so that outputs flow from one component
    to the next, used to measure cross-document validation.
  version: 1.0.{n}
  owner: {{team: developer-experience, contact: dx@example.com}}
components:
  - {{id: first, catalogItem: {a}, dependsOn: []}}
  - {{id: second, catalogItem: {b}, dependsOn: [first]}}
  - {{id: third, catalogItem: {c}, dependsOn: [first, second]}}
input:
  form:
    name: Stack Name
    type: string
    required: true
    validation: {{pattern: "^[a-z][a-z0-9-]{{2,28}}[a-z0-9]$"}}
    groups:
      - id: basic
        name: Basics
        fields:
          - {{id: size, name: Size, type: select, enum: [small, medium, large], default: small}}
          - {{id: storageSize, name: Storage (GB), type: number, validation: {{min: 20, max: 2000}}, default: 20}}
fulfillment:
  orchestration: {{mode: sequential, jiraLinking: {{linkType: blocks, parentTicket: false}}}}
"""


def generate(root: Path, documents: int) -> list[Path]:
    """Write a catalog of `documents` documents (85% items, 15% bundles) with cross references."""
    teams = [(team, jira) for team, jira, _ in CATEGORIES.values()] + [("developer-experience", "DX")]
    (root / "teams.yaml").write_text(
        TEAMS.format(
            teams="\n".join(
                f"  - {{id: {t}, name: {t.title()}, contact: {t}@example.com, jiraProject: {j}, "
                f'codeowners: "@acme/{t}"}}'
                for t, j in teams
            )
        )
    )
    bundles = documents * 15 // 100
    items = documents - bundles
    item_ids: list[str] = []
    categories = list(CATEGORIES.items())
    for n in range(items):
        category, (team, jira, prefix) = categories[n % len(categories)]
        item_id = f"{prefix}-generated-v{n}"
        folder = root / category
        folder.mkdir(exist_ok=True)
        output = f"value{n}"
        # Each item reads the metadata of the item before it: a cross-document reference.
        upstream = f"{categories[(n - 1) % len(categories)][1][2]}-generated-v{n - 1}" if n else item_id
        (folder / f"{item_id}.yaml").write_text(
            ITEM.format(
                id=item_id,
                n=n,
                category=category,
                team=team,
                jira=jira,
                port=5000 + n,
                output=output,
                upstream=upstream,
            )
        )
        item_ids.append(item_id)
    (root / "bundles").mkdir(exist_ok=True)
    for n in range(bundles):
        start = (n * 3) % (items - 3) + 1
        a, b, c = item_ids[start - 1], item_ids[start], item_ids[start + 1]
        (root / "bundles" / f"bundle-generated-v{n}.yaml").write_text(
            BUNDLE.format(id=f"bundle-generated-v{n}", n=n, a=a, b=b, c=c)
        )
    return sorted(p for p in root.rglob("*.yaml") if p.name != "teams.yaml")


def bare_parse(files: list[Path]) -> None:
    for file in files:
        yaml.load(file.read_bytes(), Loader=yaml.CSafeLoader)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="print the top of a cProfile of one validation"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pao-bench-") as tmp:
        root = Path(tmp) / "catalog"
        root.mkdir()
        files = generate(root, args.documents)
        report = validate_paths([root])  # warm-up: compiles validators once, as a long-running process would
        if report.errors:
            for problem in report.problems[:10]:
                print(problem)
            print(f"generated catalog has {report.errors} errors; the benchmark is invalid", file=sys.stderr)
            return 1
        parse_times, paused_times, validate_times = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            bare_parse(files)
            parse_times.append(time.perf_counter() - start)
            # The loader pauses the cyclic GC while it loads; show the bare parse under the same condition.
            gc.disable()
            start = time.perf_counter()
            bare_parse(files)
            paused_times.append(time.perf_counter() - start)
            gc.enable()
            start = time.perf_counter()
            validate_paths([root])
            validate_times.append(time.perf_counter() - start)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            validate_paths([root])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    parse_best, validate_best = min(parse_times), min(validate_times)
    count = len(files)
    ratio = validate_best / parse_best
    print(f"documents:            {count} ({report.warnings} warnings, {report.errors} errors)")
    paused_best = min(paused_times)
    print(f"bare CSafeLoader:     {parse_best:.3f} s  ({count / parse_best:,.0f} documents/s)")
    print(f"  same, GC paused:    {paused_best:.3f} s  ({count / paused_best:,.0f} documents/s)")
    print(f"pao validate:         {validate_best:.3f} s  ({count / validate_best:,.0f} documents/s)")
    print(f"ratio validate/parse: {ratio:.2f}x  (target <= 3x; 1,000 documents < 2 s)")
    print(f"ratio vs GC-paused:   {validate_best / paused_best:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
