import base64
import json

from pao_backend.backstage.translate import translate_catalog


def _names(entities):
    return [e["metadata"]["name"] for e in entities]


def test_entities_is_a_bare_array_of_every_template_and_group(client, sample_catalog):
    entities = client.get("/api/catalog/entities").json()
    assert isinstance(entities, list)
    kinds = {e["kind"] for e in entities}
    assert kinds == {"Template", "Group"}
    assert len(entities) == len(sample_catalog.offerings()) + len(sample_catalog.teams)


def test_filter_keys_and_values_match_case_insensitively(client, sample_catalog):
    entities = client.get("/api/catalog/entities", params={"filter": "KIND=template"}).json()
    assert sorted(_names(entities)) == sorted(o.id for o in sample_catalog.offerings())


def test_filter_sets_are_ored_and_repeated_keys_in_a_set_are_in(client):
    either = client.get(
        "/api/catalog/entities",
        params=[("filter", "kind=group"), ("filter", "kind=template,spec.type=databases")],
    ).json()
    assert {e["kind"] for e in either} == {"Group", "Template"}
    assert {e["spec"]["type"] for e in either if e["kind"] == "Template"} == {"databases"}
    both_types = client.get(
        "/api/catalog/entities", params={"filter": "kind=template,spec.type=databases,spec.type=security"}
    ).json()
    assert {e["spec"]["type"] for e in both_types} == {"databases", "security"}


def test_statements_with_different_keys_are_anded(client):
    entities = client.get(
        "/api/catalog/entities", params={"filter": "spec.type=databases,metadata.tags=manual"}
    ).json()
    assert entities and all("manual" in e["metadata"]["tags"] for e in entities)
    assert all(e["spec"]["type"] == "databases" for e in entities)


def test_bare_key_means_exists_and_array_items_match_as_path_segments(client, sample_catalog):
    bundles = client.get(
        "/api/catalog/entities", params={"filter": "metadata.annotations.pao.dev/components"}
    ).json()
    assert sorted(_names(bundles)) == sorted(sample_catalog.bundles)
    by_segment = client.get("/api/catalog/entities", params={"filter": "metadata.tags.postgres"}).json()
    by_value = client.get("/api/catalog/entities", params={"filter": "metadata.tags=postgres"}).json()
    assert _names(by_segment) == _names(by_value) == ["database-postgresql-standard"]


def test_relations_filter_by_type_and_target(client, sample_catalog):
    owned = client.get(
        "/api/catalog/entities", params={"filter": "relations.ownedBy=group:default/platform-databases"}
    ).json()
    expected = [o.id for o in sample_catalog.offerings() if o.metadata.owner.team == "platform-databases"]
    assert sorted(_names(owned)) == sorted(expected)


def test_fields_arrive_comma_joined_and_keep_only_those_subtrees(client):
    entities = client.get(
        "/api/catalog/entities", params={"filter": "kind=group", "fields": "kind,metadata.name"}
    ).json()
    assert entities and all(
        set(e) == {"kind", "metadata"} and set(e["metadata"]) == {"name"} for e in entities
    )


def test_order_offset_and_limit(client):
    names = _names(client.get("/api/catalog/entities", params={"order": "desc:metadata.name"}).json())
    assert names == sorted(names, reverse=True)
    page = client.get(
        "/api/catalog/entities", params={"order": "asc:metadata.name", "offset": 2, "limit": 3}
    ).json()
    assert _names(page) == sorted(names)[2:5]


def test_query_pages_to_the_end_with_opaque_cursors(client, sample_catalog):
    first = client.get(
        "/api/catalog/entities/by-query",
        params={"filter": "kind=template", "limit": 4, "orderField": "metadata.name,asc"},
    ).json()
    assert first["totalItems"] == len(sample_catalog.offerings())
    seen = _names(first["items"])
    cursor = first["pageInfo"].get("nextCursor")
    while cursor:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert "query" not in decoded
        page = client.get("/api/catalog/entities/by-query", params={"cursor": cursor, "limit": 4}).json()
        assert "prevCursor" in page["pageInfo"]
        seen += _names(page["items"])
        cursor = page["pageInfo"].get("nextCursor")
    assert seen == sorted(o.id for o in sample_catalog.offerings())


def test_query_defaults_to_twenty_items(client):
    page = client.get("/api/catalog/entities/by-query").json()
    assert len(page["items"]) == min(20, page["totalItems"])


def test_query_full_text_searches_the_named_fields(client):
    page = client.get(
        "/api/catalog/entities/by-query",
        params={"fullTextFilterTerm": "POSTGRES", "fullTextFilterFields": "metadata.title"},
    ).json()
    assert _names(page["items"]) == ["database-postgresql-standard"]


def test_by_name_is_case_insensitive_and_misses_are_backstage_404s(client):
    entity = client.get("/api/catalog/entities/by-name/Template/Default/DATABASE-postgresql-standard").json()
    assert entity["metadata"]["name"] == "database-postgresql-standard"
    missing = client.get("/api/catalog/entities/by-name/template/default/nope")
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"]["name"] == "NotFoundError"
    assert body["response"] == {"statusCode": 404}
    assert body["request"]["url"] == "/api/catalog/entities/by-name/template/default/nope"


def test_by_uid_finds_the_entity(client):
    entity = client.get("/api/catalog/entities/by-name/group/default/platform-databases").json()
    same = client.get(f"/api/catalog/entities/by-uid/{entity['metadata']['uid']}").json()
    assert same == entity
    assert client.get("/api/catalog/entities/by-uid/00000000-0000-0000-0000-000000000000").status_code == 404


def test_by_refs_keeps_request_order_and_returns_null_for_misses(client):
    response = client.post(
        "/api/catalog/entities/by-refs",
        json={
            "entityRefs": [
                "group:default/platform-databases",
                "template:default/nope",
                "Template:default/bundle-webapp-standard",
            ],
            "fields": ["metadata.name"],
        },
    ).json()
    assert response["items"] == [
        {"metadata": {"name": "platform-databases"}},
        None,
        {"metadata": {"name": "bundle-webapp-standard"}},
    ]
    filtered = client.post(
        "/api/catalog/entities/by-refs",
        params={"filter": "kind=template"},
        json={"entityRefs": ["group:default/platform-databases"]},
    ).json()
    assert filtered["items"] == [None]


def test_facets_count_values_per_entity(client, sample_catalog):
    facets = client.get(
        "/api/catalog/entity-facets",
        params=[("facet", "spec.type"), ("facet", "relations.ownedBy"), ("filter", "kind=template")],
    ).json()["facets"]
    assert sum(f["count"] for f in facets["spec.type"]) == len(sample_catalog.offerings())
    owners = {f["value"]: f["count"] for f in facets["relations.ownedBy"]}
    assert owners["group:default/developer-experience"] == sum(
        1 for o in sample_catalog.offerings() if o.metadata.owner.team == "developer-experience"
    )


def test_groups_own_their_templates(client, sample_catalog):
    group = client.get("/api/catalog/entities/by-name/group/default/platform-databases").json()
    owned = sorted(r["targetRef"] for r in group["relations"] if r["type"] == "ownerOf")
    expected = sorted(
        f"template:default/{o.id}"
        for o in sample_catalog.offerings()
        if o.metadata.owner.team == "platform-databases"
    )
    assert owned == expected


def test_uids_and_etags_are_derived_from_content_so_they_survive_restarts(sample_catalog):
    first = translate_catalog(sample_catalog, base_url="http://a")
    second = translate_catalog(sample_catalog, base_url="http://a")
    assert [e["metadata"]["uid"] for e in first] == [e["metadata"]["uid"] for e in second]
    assert [e["metadata"]["etag"] for e in first] == [e["metadata"]["etag"] for e in second]
    moved = translate_catalog(sample_catalog, base_url="http://b")
    assert [e["metadata"]["uid"] for e in first] == [e["metadata"]["uid"] for e in moved]
    assert [e["metadata"]["etag"] for e in first] != [e["metadata"]["etag"] for e in moved]


def test_bad_filters_and_orders_are_400_input_errors(client):
    response = client.get("/api/catalog/entities", params={"order": "sideways:metadata.name"})
    assert response.status_code == 400
    assert response.json()["error"]["name"] == "InputError"
    assert client.get("/api/catalog/entities/by-query", params={"cursor": "%%%"}).status_code == 400


def test_with_service_tokens_configured_readers_must_send_one(tmp_path):
    from fastapi.testclient import TestClient

    from pao_backend.app import create_app
    from tests.unit.backstage.conftest import sample_settings

    client = TestClient(
        create_app(sample_settings(tmp_path, service_tokens={"backstage": "s3cr3t-token-value"}))
    )
    for path in (
        "/api/catalog/entities",
        "/api/pao/v1/catalog",
        "/api/scaffolder/v2/templates/default/template/database-postgresql-standard/parameter-schema",
    ):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["response"] == {"statusCode": 401}
        allowed = client.get(path, headers={"Authorization": "Bearer s3cr3t-token-value"})
        assert allowed.status_code == 200, path
