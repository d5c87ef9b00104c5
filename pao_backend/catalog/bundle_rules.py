"""Bundle rules that need the catalog: components name valid items, the bundle scope rule for `.current`,
and `.output` keys flowing along dependsOn.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pao_backend.catalog.fulfillment_rules import action_lists, outputs_of, templates
from pao_backend.catalog.models import CatalogBundle, CatalogItem
from pao_backend.templating import TemplateError, form_paths, variables

if TYPE_CHECKING:
    from pao_backend.catalog.documents import ParsedDocument
    from pao_backend.catalog.rules import CatalogContext

PathKey = tuple[str | int, ...]

__all__ = ["ActionUsage", "check_bundle_components"]


def check_bundle_components(doc: ParsedDocument, bundle: CatalogBundle, context: CatalogContext) -> None:
    components = {c.id: c for c in bundle.components}
    items: dict[str, CatalogItem] = {}
    for index, component in enumerate(bundle.components):
        entry = context.items.get(component.catalog_item)
        if entry is not None and isinstance(entry.model, CatalogItem):
            items[component.id] = entry.model
            continue
        close = difflib.get_close_matches(component.catalog_item, list(context.items), n=1)
        doc.add(
            ("components", index, "catalogItem"),
            "E701",
            f"component `{component.id}` names `{component.catalog_item}`, which is not a catalog item",
            (f"did you mean `{close[0]}`? " if close else "") + "use the metadata.id of an existing item",
        )
    upstream = _upstream(bundle)
    bundle_paths = form_paths(bundle.form) | {("name",)}
    for index, component in enumerate(bundle.components):
        item = items.get(component.id)
        if item is None:
            continue
        before: set[str] = set()
        for dep in upstream[component.id]:
            if dep in items:
                before |= outputs_of(items[dep])
        _component_templates(doc, index, component.id, item, bundle_paths, before, items, context)
    producers: dict[str, list[str]] = {}
    for component_id, item in items.items():
        for key in sorted(outputs_of(item)):
            producers.setdefault(key, []).append(component_id)
    order = list(components)
    for key, owners in producers.items():
        for position, later in enumerate(owners[1:], start=1):
            for earlier in owners[:position]:
                related = earlier in upstream[later] or later in upstream[earlier]
                doc.add(
                    ("components", order.index(later), "catalogItem"),
                    "W606",
                    f"components `{earlier}` and `{later}` both declare the output `{key}`"
                    + (
                        "; the later one shadows the earlier" if related else "; whichever finishes last wins"
                    ),
                    "make sure the later value is meant to win, or pick items that do not clash",
                    severity="warning",
                )


def _upstream(bundle: CatalogBundle) -> dict[str, set[str]]:
    """Every component a component (transitively) depends on; cycles are cut, not followed."""
    direct = {c.id: [d for d in c.depends_on if d != c.id] for c in bundle.components}
    result: dict[str, set[str]] = {}
    for start in direct:
        seen: set[str] = set()
        stack = list(direct[start])
        while stack:
            node = stack.pop()
            if node in seen or node not in direct or node == start:
                continue
            seen.add(node)
            stack.extend(direct[node])
        result[start] = seen
    return result


@dataclass(frozen=True)
class ActionUsage:
    """The variables one action's templates use, parsed once per item and reused for every bundle."""

    current: tuple[tuple[str, ...], ...]
    outputs: tuple[str, ...]
    declares: frozenset[str]


def _usage(item: CatalogItem, cache: dict[str, dict[str, list[ActionUsage]]]) -> dict[str, list[ActionUsage]]:
    cached = cache.get(item.id)
    if cached is not None:
        return cached
    result: dict[str, list[ActionUsage]] = {}
    for list_name, actions in action_lists(item):
        entries: list[ActionUsage] = []
        for action in actions:
            current: list[tuple[str, ...]] = []
            outputs: list[str] = []
            for _, template in templates(action):
                try:
                    found = variables(template)
                except TemplateError:  # reported on the item (E600)
                    continue
                for var in found:
                    if var.namespace == "current" and var.path not in current:
                        current.append(var.path)
                    elif var.namespace == "output" and var.path[0] not in outputs:
                        outputs.append(var.path[0])
            entries.append(ActionUsage(tuple(current), tuple(outputs), frozenset(action.outputs)))
        result[list_name] = entries
    cache[item.id] = result
    return result


def _component_templates(
    doc: ParsedDocument,
    index: int,
    component_id: str,
    item: CatalogItem,
    bundle_paths: set[tuple[str, ...]],
    before: set[str],
    items: dict[str, CatalogItem],
    context: CatalogContext,
) -> None:
    """Check a component's item templates in the bundle's scope: its form and upstream outputs."""
    c_path: PathKey = ("components", index, "catalogItem")
    # Bundle scope rule: `.current` is the bundle's form; a field the bundle lacks falls back to the
    # item's default, or stays empty when the item does not require it. Paths the item's own form lacks
    # are reported on the item (E602), not again on every bundle.
    required = {(g.id, f.id) for g in item.form.groups for f in g.fields if f.default is None and f.required}
    # One finding per missing path / output key, naming every action list that uses it.
    missing_paths: dict[str, list[str]] = {}
    missing_outputs: dict[str, list[str]] = {}
    for list_name, entries in _usage(item, context.usage).items():
        declared = set(before)
        for entry in entries:
            for path in entry.current:
                if len(path) >= 2 and (path[0], path[1]) in required and path not in bundle_paths:
                    _note(missing_paths, ".".join(path), list_name)
            for key in entry.outputs:
                if key not in declared:
                    _note(missing_outputs, key, list_name)
            declared |= entry.declares
    for shown, lists in missing_paths.items():
        doc.add(
            c_path,
            "E705",
            f"component `{component_id}`: item `{item.id}` uses `.current.{shown}` ({', '.join(lists)}): "
            "a required field the bundle form lacks and the item gives no default",
            f"add field `{shown}` to the bundle's form (same group and field ids), or give the "
            "item's field a default",
        )
    for key, lists in missing_outputs.items():
        uses = f"component `{component_id}`: item `{item.id}` uses `.output.{key}` ({', '.join(lists)})"
        _component_output(doc, c_path, uses, key, component_id, items)


def _note(found: dict[str, list[str]], what: str, where: str) -> None:
    places = found.setdefault(what, [])
    if where not in places:
        places.append(where)


def _component_output(
    doc: ParsedDocument,
    c_path: PathKey,
    uses: str,
    key: str,
    component_id: str,
    items: dict[str, CatalogItem],
) -> None:
    elsewhere = sorted(
        cid for cid, other in items.items() if cid != component_id and key in outputs_of(other)
    )
    if not elsewhere:
        # Optional wiring: no component declares it, so it renders empty, as in a standalone request.
        doc.add(
            c_path,
            "W608",
            f"{uses}, which no component of this bundle declares; it will be empty",
            "add a component that declares it (and list it in dependsOn) if the value is needed",
            severity="warning",
        )
        return
    names = ", ".join(elsewhere)
    doc.add(
        c_path,
        "E605",
        f"{uses}, but `{key}` comes from {names}, which it does not depend on",
        f"add {names} to the dependsOn of `{component_id}` so the value exists when it runs",
    )
