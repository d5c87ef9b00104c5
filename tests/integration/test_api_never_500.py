"""Bad input gets a clear 4xx and never a 500, on every operation of PAO's HTTP API.

Schemathesis generates requests from PAO's own OpenAPI document (valid ones and deliberately invalid ones:
wrong types, missing fields, ids that are not ids, unknown enum values) and sends them over real HTTP to a
real PAO (uvicorn on loopback, the engine running, the demo provisioner and the sample catalog). Every
answer must be below 500, and every 4xx must carry Backstage's error body with a message that says what
to fix. Generation is derandomized, so CI sees the same requests on every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation, BaseSchema

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG
from tests.support.databases import postgres_database
from tests.support.live_server import serve
from tests.support.provisioner import ProvisionerServer

# The API surfaces the non-negotiable covers; the portal's pages and the demo provisioner are not API.
API_PATHS = r"^/api/(pao/v1|catalog|scaffolder)/"
# Examples per operation and generation mode: enough for wrong types, missing parts and odd strings on
# every parameter; small enough that ~60 operations x 2 modes stay well under two minutes on 2 cores.
# PAO_FUZZ_EXAMPLES=200 digs deeper locally (minutes).
EXAMPLES = int(os.environ.get("PAO_FUZZ_EXAMPLES", "12"))
# An event stream of a request that exists would never end; a generated id never matches one, so
# these answer at once. The timeout only turns a hang into a reported failure.
TIMEOUT = 10.0
WEBAPP: dict[str, Any] = {
    "name": "orders",
    "basic": {"storageSize": 50},
    "app": {"image": "ghcr.io/example/orders:1.2.0"},
}
OFFERING = "bundle-webapp-standard"

# Schemathesis' strategies draw from `random` (Hypothesis seeds it per example, so runs stay deterministic).
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@dataclass(frozen=True)
class Finding:
    operation: str
    mode: str
    problem: str
    request: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.mode}] {self.problem}\n    {self.request}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    # PostgreSQL refuses some text SQLite stores (NUL, half a surrogate pair): both are fuzzed.
    with contextlib.ExitStack() as stack:
        url = ""
        if request.param == "postgres":
            url = stack.enter_context(postgres_database(request.getfixturevalue("postgres_url")))
        yield from _serving(tmp_path_factory.mktemp(f"never-500-{request.param}"), url)


def _serving(tmp: Path, database_url: str) -> Iterator[Api]:
    shutil.copytree(SAMPLE_CATALOG, tmp / "catalog")
    provisioner = ProvisionerServer(delay=0.0).start()
    settings = Settings(
        environment="test",
        data_dir=tmp / "data",
        database_url=database_url,
        catalog_dir=tmp / "catalog",
        demo_provisioner=True,
        demo_provisioner_delay=0.0,
        # The demo provisioner's routes are served by PAO too; automatic offerings call this one on loopback.
        endpoints={"provisioner": provisioner.url},
        # The caller may act on every team's inbox, so generated resolves reach a real ticket.
        admins=["user:default/dev"],
    )
    try:
        with serve(create_app(settings), lifespan="on") as base_url:
            schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json").include(path_regex=API_PATHS)
            yield Api(base_url, schema, existing(base_url), provisioner)
    finally:
        provisioner.stop()


@dataclass(frozen=True)
class Api:
    base_url: str
    schema: BaseSchema
    # Path parameters and body fields that name things which exist, so that half of the generated
    # requests reach past the 404 into the code that reads bodies and queries of real resources.
    ids: dict[str, str]
    provisioner: ProvisionerServer


def existing(base_url: str) -> dict[str, str]:
    """Create a request and a preset; return ids of real things by the API's parameter names."""
    api = f"{base_url}/api/pao/v1"
    submitted = requests.post(f"{api}/requests", json={"catalogId": OFFERING, "values": WEBAPP}, timeout=30)
    assert submitted.status_code == 201, submitted.text
    request_id = submitted.json()["id"]
    preset = requests.post(
        f"{api}/presets", json={"name": "fuzz", "offeringId": OFFERING, "values": WEBAPP}, timeout=30
    )
    assert preset.status_code == 201, preset.text
    entity = requests.get(f"{base_url}/api/catalog/entities", params={"limit": "1"}, timeout=30).json()[0]
    template = requests.get(
        f"{base_url}/api/catalog/entities", params={"filter": "kind=template", "limit": "1"}, timeout=30
    ).json()[0]
    manual: dict[str, Any] = {"catalogId": "messaging-kafka-topic", "values": {"name": "fuzz-topic"}}
    assert requests.post(f"{api}/requests", json=manual, timeout=30).status_code == 201
    deadline = time.monotonic() + 30
    while not (tickets := requests.get(f"{api}/inbox", timeout=30).json()["items"]):
        assert time.monotonic() < deadline, "the manual request opened no inbox ticket"
        time.sleep(0.05)
    team = requests.get(f"{api}/teams", timeout=30).json()
    teams = team["items"] if isinstance(team, dict) else team
    return {
        "request_id": request_id,
        "task_id": request_id,
        "preset_id": preset.json()["id"],
        "ticket_id": tickets[0]["key"],
        "offering_id": OFFERING,
        "catalogId": OFFERING,
        "offeringId": OFFERING,
        "action_id": "pao:rest-api",
        "team_id": teams[0]["id"],
        "kind": entity["kind"],
        "namespace": entity["metadata"].get("namespace", "default"),
        "name": entity["metadata"]["name"],
        "uid": entity["metadata"]["uid"],
        "templateRef": f"template:default/{template['metadata']['name']}",
    }


def aim(case: schemathesis.Case[Any], ids: dict[str, str]) -> None:
    """Point the case's path and top-level body fields at things that exist."""
    if case.path_parameters:
        for key in case.path_parameters.keys() & ids.keys():
            case.path_parameters[key] = ids[key]
    if isinstance(case.body, dict):
        for key in case.body.keys() & ids.keys():
            case.body[key] = ids[key]


# Values a schema allows but a database or an encoder may not: what the generator rarely produces.
POISON = [None, None, "a\x00b", str(10**20), "-" + str(10**20)]
BODY_POISON = ["a\ud800b", 10**20, float(10**300)]


def poison(case: schemathesis.Case[Any], query_value: str | None, body_value: Any) -> None:
    """Put one awkward value into the first query parameter and the first top-level body field."""
    if query_value is not None and case.query:
        case.query[sorted(case.query)[0]] = query_value
    if body_value is not None and isinstance(case.body, dict) and case.body:
        case.body[sorted(case.body)[0]] = body_value


def error_shape_problem(response: requests.Response | Any) -> str | None:
    """What is wrong with a 4xx body, or None when it is Backstage's error shape with a useful message."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{response.status_code} body is not JSON: {response.content[:200]!r}"
    if not isinstance(body, dict):
        return f"{response.status_code} body is not an object: {body!r:.200}"
    error, request, answer = body.get("error"), body.get("request"), body.get("response")
    if not (isinstance(error, dict) and isinstance(error.get("name"), str) and error["name"]):
        return f"{response.status_code} body has no error.name: {body!r:.300}"
    if not (isinstance(error.get("message"), str) and error["message"].strip()):
        return f"{response.status_code} body has no error.message: {body!r:.300}"
    if not (isinstance(request, dict) and {"method", "url"} <= request.keys()):
        return f"{response.status_code} body has no request.method/url: {body!r:.300}"
    if not (isinstance(answer, dict) and answer.get("statusCode") == response.status_code):
        return f"{response.status_code} body's response.statusCode differs: {body!r:.300}"
    return None


def fuzz(
    operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, api: Api, session: requests.Session
) -> list[Finding]:
    """Send EXAMPLES generated requests to one operation; return what went wrong (first of each kind)."""
    found: dict[str, Finding] = {}

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        real=st.booleans(),
        query_value=st.sampled_from(POISON),
        body_value=st.sampled_from([None, None, None, *BODY_POISON]),
    )
    def run(case: schemathesis.Case[Any], real: bool, query_value: str | None, body_value: Any) -> None:
        base_url = api.base_url
        poison(case, query_value, body_value)
        if real:
            aim(case, api.ids)
        request = case.as_curl_command(base_url=base_url)
        try:
            response = case.call(base_url=base_url, session=session, timeout=TIMEOUT)
        except requests.RequestException as exc:
            problem = f"no answer: {type(exc).__name__}"
            found.setdefault(problem, Finding(operation.label, mode.value, problem, request))
            return
        status = response.status_code
        if status >= 500:
            problem = f"{status}: {response.content[:300]!r}"
            found.setdefault(str(status), Finding(operation.label, mode.value, problem, request))
        elif status >= 400 and (shape := error_shape_problem(response)) is not None:
            found.setdefault(f"shape {status}", Finding(operation.label, mode.value, shape, request))

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing about this operation can be made invalid (e.g. a body schema that accepts anything).
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
    return list(found.values())


def modes(operation: APIOperation[Any, Any, Any, Any]) -> list[GenerationMode]:
    """Valid requests for every operation; invalid ones where there is something to get wrong."""
    parts = (operation.path_parameters, operation.query, operation.headers, operation.body)
    if any(len(part) for part in parts):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def test_every_api_operation_answers_bad_input_with_a_clear_4xx(api: Api) -> None:
    operations = [result.ok() for result in api.schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40, "the OpenAPI document lost operations"
    findings: list[Finding] = []
    with requests.Session() as session:
        for operation in operations:
            for mode in modes(operation):
                findings += fuzz(operation, mode, api, session)
    assert not findings, f"{len(findings)} operations answered badly:\n" + "\n".join(map(str, findings))


# Hand-written cases the fuzzer cannot find: they need state across requests.

SECRET = "hunter2-Fuzz-s3cr3t"
REQUESTS = "/api/pao/v1/requests"


def _total(api: Api) -> int:
    listed = requests.get(f"{api.base_url}{REQUESTS}", params={"limit": "1"}, timeout=30)
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["totalItems"]
    return total


def _wait_settled(api: Api, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        detail: dict[str, Any] = requests.get(f"{api.base_url}{REQUESTS}/{request_id}", timeout=30).json()
        if detail["state"] in {"completed", "failed", "aborted", "cancelled"} or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


@pytest.mark.parametrize("where", ["values", "secrets"])
def test_a_password_value_is_used_but_never_shown(api: Api, where: str) -> None:
    name = f"fuzz-secret-{where}"
    body: dict[str, Any] = {"catalogId": "security-secret-standard", "values": {"name": name}}
    if where == "values":
        body["values"]["secret"] = {"value": SECRET}
    else:
        body["secrets"] = {"secret.value": SECRET}
    submitted = requests.post(f"{api.base_url}{REQUESTS}", json=body, timeout=30)
    assert submitted.status_code == 201, submitted.text
    request_id = submitted.json()["id"]
    detail = _wait_settled(api, request_id)
    assert detail["state"] == "completed", detail
    # Used: the provisioner received it ...
    assert any(SECRET in sent for sent in api.provisioner.bodies[f"/secrets/{name}"])
    # ... and shown nowhere: not in the answer, the detail, the events, the list or the Backstage task.
    shown = [
        submitted.text,
        requests.get(f"{api.base_url}{REQUESTS}/{request_id}", timeout=30).text,
        requests.get(f"{api.base_url}{REQUESTS}/{request_id}/events", timeout=30).text,
        requests.get(f"{api.base_url}{REQUESTS}", params={"q": name}, timeout=30).text,
        requests.get(f"{api.base_url}/api/scaffolder/v2/tasks/{request_id}", timeout=30).text,
        requests.get(f"{api.base_url}/api/scaffolder/v2/tasks/{request_id}/events", timeout=30).text,
    ]
    assert not [text for text in shown if SECRET in text]


def test_a_refused_submit_stores_nothing_and_the_corrected_body_succeeds(api: Api) -> None:
    before = _total(api)
    body: dict[str, Any] = {
        "catalogId": OFFERING,
        "values": {**WEBAPP, "name": "fix-me", "basic": {"storageSize": 5000}},
    }
    refused = requests.post(f"{api.base_url}{REQUESTS}", json=body, timeout=30)
    assert refused.status_code == 422, refused.text
    assert error_shape_problem(refused) is None
    assert refused.json()["errors"] == [
        {"path": "basic.storageSize", "message": "must be ≤ 2000", "code": "maximum"}
    ]
    # NaN is not JSON, yet Python's parser reads it: refused by field name, not by a later render step.
    nan = json.dumps(body).replace("5000", "NaN")
    refused_nan = requests.post(
        f"{api.base_url}{REQUESTS}", data=nan, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert refused_nan.status_code == 422, refused_nan.text
    assert {"path": "basic.storageSize", "message": "must be a finite number", "code": "finite"} in (
        refused_nan.json()["errors"]
    )
    assert _total(api) == before

    body["values"]["basic"] = {"storageSize": 50}
    accepted = requests.post(f"{api.base_url}{REQUESTS}", json=body, timeout=30)
    assert accepted.status_code == 201, accepted.text
    assert _total(api) == before + 1


def test_an_idempotency_key_repeat_returns_the_first_request(api: Api) -> None:
    body: dict[str, Any] = {"catalogId": OFFERING, "values": {**WEBAPP, "name": "once-only"}}
    headers = {"Idempotency-Key": "fuzz-once-only"}
    first = requests.post(f"{api.base_url}{REQUESTS}", json=body, headers=headers, timeout=30)
    assert first.status_code == 201, first.text
    total = _total(api)
    again = requests.post(f"{api.base_url}{REQUESTS}", json=body, headers=headers, timeout=30)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert _total(api) == total


def test_concurrent_repeats_of_an_idempotency_key_make_one_request(api: Api) -> None:
    body: dict[str, Any] = {"catalogId": OFFERING, "values": {**WEBAPP, "name": "once-racing"}}
    headers = {"Idempotency-Key": "fuzz-once-racing"}
    before = _total(api)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda _: requests.post(f"{api.base_url}{REQUESTS}", json=body, headers=headers, timeout=30),
                range(6),
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _total(api) == before + 1


def _five_megabytes() -> bytes:
    values = {**WEBAPP, "name": "too-big", "app": {"image": "x" * 5_000_000}}
    return json.dumps({"catalogId": OFFERING, "values": values}).encode()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_five_megabyte_body_is_refused_with_413(api: Api, framing: str) -> None:
    before = _total(api)
    payload = _five_megabytes()
    data: bytes | Iterator[bytes] = payload
    if framing == "chunked":  # no Content-Length: counted as it arrives
        data = (payload[i : i + 65536] for i in range(0, len(payload), 65536))
    refused = requests.post(
        f"{api.base_url}{REQUESTS}", data=data, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert refused.status_code == 413, refused.text[:300]
    assert error_shape_problem(refused) is None
    assert "PAO_MAX_REQUEST_BYTES" in refused.json()["error"]["message"]
    assert _total(api) == before
    assert requests.get(f"{api.base_url}/healthz", timeout=30).status_code == 200


@pytest.mark.parametrize("secrets", [{"secret.value": 12345678}, {"secret": {"value": {"a": 1}}}])
def test_a_secret_that_is_not_text_is_refused_by_name(api: Api, secrets: dict[str, Any]) -> None:
    # (Q) Used to be accepted and stored as Python's str() of the value (api/routes/requests.py).
    before = _total(api)
    body: dict[str, Any] = {"catalogId": "security-secret-standard", "values": {"name": "typed-secret"}}
    body["secrets"] = secrets
    refused = requests.post(f"{api.base_url}{REQUESTS}", json=body, timeout=30)
    assert refused.status_code == 422, refused.text
    assert error_shape_problem(refused) is None
    assert "secret 'secret.value' must be text" in refused.json()["error"]["message"]
    assert "12345678" not in refused.text
    assert _total(api) == before


def test_an_unknown_request_state_in_the_list_filter_is_a_400_naming_the_states(api: Api) -> None:
    # (Q) Used to answer an empty list, as if no request were in that state (api/routes/requests.py).
    refused = requests.get(f"{api.base_url}{REQUESTS}", params={"status": "completed,done"}, timeout=30)
    assert refused.status_code == 400, refused.text
    assert error_shape_problem(refused) is None
    assert "unknown request state 'done'; use one of submitted," in refused.json()["error"]["message"]
    listed = requests.get(f"{api.base_url}{REQUESTS}", params={"status": "completed,failed"}, timeout=30)
    assert listed.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        # Was a 500 at submit (the secret's URL-encoded form for log redaction could not be made).
        {
            "catalogId": "security-secret-standard",
            "values": {"name": "half-a-char"},
            "secrets": {"secret.value": "a\ud800"},
        },
        # Was accepted, and then every GET of the request was a 500 (and its ticket action failed).
        {
            "catalogId": "messaging-kafka-topic",
            "values": {"name": "half-a-char", "topic": {"consumers": "a\ud800"}},
        },
    ],
)
def test_text_that_is_not_unicode_is_a_422_and_stores_nothing(api: Api, body: dict[str, Any]) -> None:
    before = _total(api)
    raw = json.dumps(body)  # escapes the lone surrogate as \\ud800, which JSON allows and Python reads
    refused = requests.post(
        f"{api.base_url}{REQUESTS}", data=raw, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert refused.status_code == 422, refused.text
    assert error_shape_problem(refused) is None
    assert "surrogate pair" in refused.json()["error"]["message"]
    assert _total(api) == before


@pytest.mark.parametrize(
    ("path", "param"),
    [
        (f"{REQUESTS}/{{request_id}}/events", "after"),
        (REQUESTS, "offset"),
        ("/api/scaffolder/v2/tasks/{request_id}/events", "after"),
        ("/api/scaffolder/v2/tasks", "offset"),
    ],
)
def test_an_offset_or_event_id_beyond_sql_bigint_is_a_422(api: Api, path: str, param: str) -> None:
    # (Q) 10**20 was a 500 from SQLite and PostgreSQL (api/routes/requests.py,
    # backstage/scaffolder_routes.py).
    url = api.base_url + path.format(request_id=api.ids["request_id"])
    refused = requests.get(url, params={param: str(10**20)}, timeout=30)
    assert refused.status_code == 422, refused.text
    assert error_shape_problem(refused) is None
    assert refused.json()["errors"][0]["path"] == param
    if param == "offset":  # (an event id past the last one long-polls for new events)
        assert requests.get(url, params={param: str(2**63 - 1)}, timeout=30).status_code == 200


@pytest.mark.parametrize("ticket", ["9" * 30, "²", "12345678901234567890"])
def test_an_inbox_ticket_id_that_is_no_database_id_is_a_404(api: Api, ticket: str) -> None:
    # (Q) Found by the fuzzer: 9*30 overflowed SQLite INTEGER; int("²") raised (ticketing/inbox.py find_row).
    missing = requests.get(f"{api.base_url}/api/pao/v1/inbox/{ticket}", timeout=30)
    assert missing.status_code == 404, missing.text
    assert error_shape_problem(missing) is None
