"""An in-memory Backstage catalog over PAO's entities: lookups, filters, ordering, fields, facets, cursors.

Semantics follow Backstage's catalog backend (`parseEntityFilterParams.ts`, `buildEntitySearch.ts`):
each `filter` parameter is a set of comma-separated statements; sets are OR'ed, statements with different
keys are AND'ed, repeated keys inside a set are IN. A statement is `key=value` or a bare `key` (exists).
Keys are dotted paths through objects and arrays, matched case-insensitively, as are values. A string
item `x` of an array at `a.b` also matches as `a.b.x` (= `true`). Relations match as `relations.<type>`.

Built once per catalog snapshot (`EntityIndex.build`), so each request only filters and slices.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pao_backend.backstage.translate import NAMESPACE, translate_catalog
from pao_backend.catalog.store import Catalog
from pao_backend.errors import InputError

__all__ = [
    "EntityFilter",
    "EntityIndex",
    "EntityQuery",
    "OrderField",
    "QueryPage",
    "decode_cursor",
    "encode_cursor",
    "parse_entity_ref",
    "parse_fields",
    "parse_filters",
    "project",
    "search_rows",
]

# buildEntitySearch: these are indexed specially or not at all.
_SPECIAL_KEYS = {"attachments", "relations", "status", "metadata.name", "metadata.namespace", "metadata.uid"}
_SPECIAL_KEYS |= {"metadata.etag"}
_MAX_VALUE_LENGTH = 200

# key -> [(lower-cased value or None, original value or None)]
SearchRows = dict[str, list[tuple[str | None, str | None]]]


def search_rows(entity: dict[str, Any]) -> SearchRows:
    """The (key, value) pairs Backstage indexes for an entity, keys lower-cased."""
    rows: SearchRows = {}

    def add(key: str, value: Any) -> None:
        # `key` is already lower-cased.
        if value is None:
            rows.setdefault(key, []).append((None, None))
            return
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if len(text) > _MAX_VALUE_LENGTH:
            rows.setdefault(key, []).append((None, None))
        else:
            rows.setdefault(key, []).append((text.lower(), text))

    def visit(path: str, current: Any) -> None:
        if isinstance(current, dict):
            prefix = f"{path}." if path else ""
            for key, value in current.items():
                child = prefix + key.lower()
                if child not in _SPECIAL_KEYS:
                    visit(child, value)
        elif isinstance(current, list):
            for item in current:
                visit(path, item)
                if isinstance(item, str):
                    add(f"{path}.{item.lower()}", True)
        elif current is None or isinstance(current, str | int | float | bool):
            add(path, current)

    visit("", entity)
    metadata = entity.get("metadata", {})
    add("metadata.name", metadata.get("name"))
    add("metadata.namespace", metadata.get("namespace", NAMESPACE))
    add("metadata.uid", metadata.get("uid"))
    for relation in entity.get("relations", []):
        add(f"relations.{str(relation['type']).lower()}", relation["targetRef"])
    return rows


@dataclass(frozen=True)
class EntityFilter:
    """anyOf sets; each set maps a lower-cased key to allowed lower-cased values (None = key must exist)."""

    sets: tuple[tuple[tuple[str, frozenset[str] | None], ...], ...] = ()

    def matches(self, rows: SearchRows) -> bool:
        if not self.sets:
            return True
        return any(all(_statement(rows, key, values) for key, values in one) for one in self.sets)

    def to_json(self) -> list[list[list[Any]]]:
        return [[[k, sorted(v) if v is not None else None] for k, v in one] for one in self.sets]

    @classmethod
    def from_json(cls, data: Any) -> EntityFilter:
        sets = tuple(
            tuple((str(k), frozenset(map(str, v)) if v is not None else None) for k, v in one) for one in data
        )
        return cls(sets)


def _statement(rows: SearchRows, key: str, values: frozenset[str] | None) -> bool:
    found = rows.get(key)
    if not found:
        return False
    if values is None:
        return True
    return any(lower in values for lower, _ in found if lower is not None)


def parse_filters(params: Iterable[str] | None) -> EntityFilter:
    """`?filter=kind=template,metadata.namespace=default&filter=kind=group` → an EntityFilter."""
    sets = []
    for param in params or []:
        grouped: dict[str, set[str] | None] = {}
        for raw in param.split(","):
            statement = raw.strip()
            if not statement:
                continue
            key, sep, value = statement.partition("=")
            key = key.strip().lower()
            if not key:
                raise InputError(f"invalid filter statement {statement!r}: expected `key=value` or `key`")
            if not sep:
                grouped.setdefault(key, None)
                continue
            current = grouped.get(key)
            if key in grouped and current is None:
                continue  # `key` (exists) already covers any value
            grouped[key] = (current or set()) | {value.strip().lower()}
        if grouped:
            sets.append(tuple((k, frozenset(v) if v is not None else None) for k, v in grouped.items()))
    return EntityFilter(tuple(sets))


def parse_fields(params: Iterable[str] | None) -> list[str]:
    """`fields` arrives comma-joined (not exploded); repeated keys are accepted too."""
    return [f.strip() for param in params or [] for f in param.split(",") if f.strip()]


def project(entity: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Keep only the subtrees named by dotted paths (`kind`, `metadata.name`, `spec`)."""
    if not fields:
        return entity
    result: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        source: Any = entity
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                source = _MISSING
                break
            source = source[part]
        if source is _MISSING:
            continue
        target = result
        for part in parts[:-1]:
            existing = target.get(part)
            if not isinstance(existing, dict):
                existing = target[part] = {}
            target = existing
        target[parts[-1]] = source
    return result


_MISSING = object()


def parse_entity_ref(ref: str, *, default_kind: str | None = None) -> tuple[str, str, str] | None:
    """Backstage's `parseEntityRef` (`[<kind>:][<namespace>/]<name>`), lower-cased; None if malformed."""
    text = ref.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = default_kind or "", text
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = NAMESPACE, rest
    if not kind or not namespace or not name or any(c in name for c in ":/") or "/" in kind:
        return None
    return kind.lower(), namespace.lower(), name.lower()


@dataclass(frozen=True)
class OrderField:
    field: str
    order: str = "asc"


@dataclass(frozen=True)
class EntityQuery:
    filter: EntityFilter = field(default_factory=EntityFilter)
    order: tuple[OrderField, ...] = ()
    text: str = ""
    text_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryPage:
    items: list[dict[str, Any]]
    total: int
    next_offset: int | None
    prev_offset: int | None
    positions: list[int] = field(default_factory=list)


def encode_cursor(query: EntityQuery, offset: int, etag: str) -> str:
    """Opaque base64url JSON (keys f/o/t/x/v/e): never a top-level `query`, which the client would misread."""
    data = {
        "f": query.filter.to_json(),
        "o": [[o.field, o.order] for o in query.order],
        "t": query.text,
        "x": list(query.text_fields),
        "v": offset,
        "e": etag,
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[EntityQuery, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        query = EntityQuery(
            filter=EntityFilter.from_json(data["f"]),
            order=tuple(OrderField(str(f), str(o)) for f, o in data["o"]),
            text=str(data["t"]),
            text_fields=tuple(map(str, data["x"])),
        )
        offset = int(data["v"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InputError(
            f"malformed cursor {cursor[:40]!r}: pass back a cursor from pageInfo unchanged"
        ) from exc
    return query, max(offset, 0)


class EntityIndex:
    """Every entity of one catalog snapshot, with its search rows and lookups."""

    def __init__(self, entities: list[dict[str, Any]], etag: str) -> None:
        self.etag = etag
        self.entities = entities
        self.rows = [search_rows(e) for e in entities]
        # Inverted index: key -> lower-cased value -> positions (None collects every position with the key).
        self.inverted: dict[str, dict[str | None, set[int]]] = {}
        for position, rows in enumerate(self.rows):
            for key, values in rows.items():
                by_value = self.inverted.setdefault(key, {})
                by_value.setdefault(None, set()).add(position)
                for lower, _ in values:
                    if lower is not None:
                        by_value.setdefault(lower, set()).add(position)
        # Each entity serialized once; unprojected responses are assembled from these bytes.
        self.json = [json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in entities]
        self._derived: dict[tuple[int, str], bytes] = {}
        self.by_ref: dict[tuple[str, str, str], int] = {}
        self.by_uid: dict[str, int] = {}
        for position, entity in enumerate(entities):
            metadata = entity["metadata"]
            ref = (
                str(entity["kind"]).lower(),
                str(metadata.get("namespace", NAMESPACE)).lower(),
                str(metadata["name"]).lower(),
            )
            self.by_ref[ref] = position
            self.by_uid[str(metadata["uid"])] = position

    @classmethod
    def build(cls, catalog: Catalog, *, base_url: str) -> EntityIndex:
        return cls(translate_catalog(catalog, base_url=base_url), f"{catalog.etag}:{base_url}")

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        position = self.by_ref.get((kind.lower(), namespace.lower(), name.lower()))
        return None if position is None else self.entities[position]

    def get_by_ref(self, ref: str) -> dict[str, Any] | None:
        parsed = parse_entity_ref(ref)
        return None if parsed is None else self.get(*parsed)

    def get_by_uid(self, uid: str) -> dict[str, Any] | None:
        position = self.by_uid.get(uid)
        return None if position is None else self.entities[position]

    def filtered(self, entity_filter: EntityFilter) -> list[int]:
        """Positions of the entities the filter matches, in index order (via the inverted index)."""
        if not entity_filter.sets:
            return list(range(len(self.entities)))
        matched: set[int] = set()
        for one in entity_filter.sets:
            found: set[int] | None = None
            for key, values in one:
                by_value = self.inverted.get(key, {})
                if values is None:
                    hits = by_value.get(None, set())
                else:
                    hits = set().union(*(by_value.get(v, set()) for v in values))
                found = hits if found is None else found & hits
                if not found:
                    break
            matched |= found or set()
        return sorted(matched)

    def derived(self, entity: dict[str, Any], name: str, make: Callable[[dict[str, Any]], Any]) -> bytes:
        """JSON of something computed from one entity (e.g. its parameter schema), computed once per index."""
        key = (self.position(entity), name)
        cached = self._derived.get(key)
        if cached is None:
            cached = self._derived[key] = json.dumps(
                make(entity), ensure_ascii=False, separators=(",", ":")
            ).encode()
        return cached

    def position(self, entity: dict[str, Any]) -> int:
        return self.by_uid[str(entity["metadata"]["uid"])]

    def _matching(self, query: EntityQuery) -> list[int]:
        positions = self.filtered(query.filter)
        if query.text:
            term = query.text.strip().lower()
            fields = [f.lower() for f in query.text_fields] or [
                (query.order[0].field if query.order else "metadata.name").lower()
            ]
            positions = [
                i
                for i in positions
                if any(
                    lower is not None and term in lower
                    for f in fields
                    for lower, _ in self.rows[i].get(f, [])
                )
            ]
        for order in reversed(query.order):
            key = order.field.lower()

            def sort_key(i: int, key: str = key) -> tuple[int, str]:
                values = [lower for lower, _ in self.rows[i].get(key, []) if lower is not None]
                return (0, values[0]) if values else (1, "")

            missing_last = [i for i in positions if self.rows[i].get(key)]
            missing = [i for i in positions if not self.rows[i].get(key)]
            missing_last.sort(key=sort_key, reverse=order.order == "desc")
            positions = missing_last + missing
        return positions

    def query(self, query: EntityQuery, *, offset: int = 0, limit: int | None = None) -> QueryPage:
        positions = self._matching(query)
        total = len(positions)
        end = total if limit is None else min(total, offset + limit)
        page = positions[offset:end]
        next_offset = end if end < total else None
        prev_offset = max(0, offset - (limit or 0)) if offset > 0 else None
        return QueryPage(
            items=[self.entities[i] for i in page],
            total=total,
            next_offset=next_offset,
            prev_offset=prev_offset,
            positions=page,
        )

    def json_array(self, positions: Sequence[int]) -> bytes:
        """`[entity, ...]` from the pre-serialized entities."""
        return b"[" + b",".join(self.json[i] for i in positions) + b"]"

    def facets(self, facets: Sequence[str], entity_filter: EntityFilter) -> dict[str, list[dict[str, Any]]]:
        """`{facet: [{value, count}]}`; a value counts once per entity; most frequent first."""
        matching = [self.rows[i] for i in self.filtered(entity_filter)]
        result: dict[str, list[dict[str, Any]]] = {}
        for facet in facets:
            key = facet.lower()
            counts: dict[str, int] = {}
            for rows in matching:
                for original in {original for _, original in rows.get(key, []) if original is not None}:
                    counts[original] = counts.get(original, 0) + 1
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            result[facet] = [{"value": value, "count": count} for value, count in ordered]
        return result
