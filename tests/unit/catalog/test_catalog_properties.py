"""Property tests: mutated valid documents give findings or clean, never an exception; the compiled schema
fast path agrees with the full jsonschema validator."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pao_backend.catalog.loader import load_catalog, parse_document
from pao_backend.catalog.schema import _fast_check, _validator
from tests.conftest import FIXTURES

VALID = FIXTURES / "catalog" / "valid"
SOURCES = {
    path.relative_to(VALID).as_posix(): yaml.safe_load(path.read_text())
    for path in sorted(VALID.rglob("*.yaml"))
    if path.name != "teams.yaml"
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["{{.current.name}}", "{{.output.x}}", "{{", "bundle-x-y", "CatalogItem", "^[a-z", "1.0.0"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    relative = draw(st.sampled_from(sorted(SOURCES)))
    document = copy.deepcopy(SOURCES[relative])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return relative, document


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_mutated_documents_give_findings_or_clean_never_an_exception(
    tmp_path: Path, case: tuple[str, Any]
) -> None:
    relative, document = case
    root = tmp_path / "catalog"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(VALID, root)
    (root / relative).write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    result = load_catalog(root)
    for problem in result.problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.code and problem.message
    if any(p.is_error and p.path.endswith(relative) for p in result.problems):
        assert relative in result.rejected


@settings(max_examples=300, deadline=None)
@given(case=mutated())
def test_compiled_fast_path_agrees_with_jsonschema(case: tuple[str, Any]) -> None:
    relative, document = case
    name = "catalog-bundle.schema.json" if relative.startswith("bundles/") else "catalog-item.schema.json"
    data = parse_document(yaml.safe_dump(document).encode(), relative).data
    if data is None:
        return
    try:
        _fast_check("v1", name)(data)
        fast_ok = True
    except Exception:
        fast_ok = False
    assert fast_ok == _validator("v1", name).is_valid(data)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    doc = parse_document(text.encode("utf-8", "surrogatepass"), "t.yaml")
    assert doc.data is None or isinstance(doc.data, dict)
