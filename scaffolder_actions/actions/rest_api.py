"""pao:rest-api — one HTTP call: retries, backoff, Retry-After, idempotency key, credentials by name."""

from __future__ import annotations

import base64
import email.utils
import random
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import Field, ValidationInfo, field_validator

from scaffolder_actions._action import Action, ActionModel, Example
from scaffolder_actions._context import ActionContext
from scaffolder_actions._errors import (
    ActionConfigurationError,
    ActionError,
    ActionTimeoutError,
    BackendRejectedError,
    BackendUnavailableError,
    CredentialsRefusedError,
)
from scaffolder_actions.actions.http_clients import SharedClients

_BODY_EXCERPT = 500


@dataclass(frozen=True)
class Credential:
    """A configured credential, referenced from action input by name. Never part of a document."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    header: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Credential:
        """Accepts `token`, `username`/`user`, `password`, `apiKey`/`api_key`/`key`, `header`."""

        def pick(*names: str) -> str | None:
            for name in names:
                if values.get(name):
                    return values[name]
            return None

        return cls(
            token=pick("token"),
            username=pick("username", "user"),
            password=pick("password"),
            api_key=pick("apiKey", "api_key", "key"),
            header=pick("header"),
        )

    def secret_values(self) -> list[str]:
        return [v for v in (self.token, self.password, self.api_key) if v]


class RetryPolicy(ActionModel):
    attempts: int = Field(0, ge=0, le=20, description="Retries after the first try (0 = try once)")
    backoff: Literal["linear", "exponential"] = Field("exponential", description="How the delay grows")
    base_delay: float = Field(1.0, ge=0, le=300, description="Delay before the first retry, in seconds")
    max_delay: float = Field(
        30.0, ge=0, le=3600, description="Cap on any delay, Retry-After included, in seconds"
    )


class Authentication(ActionModel):
    type: Literal["bearer", "basic", "api-key"]
    credential: str = Field(
        min_length=1,
        description="Name of a credential configured in PAO (PAO_CREDENTIALS); never the secret itself",
    )
    header: str | None = Field(
        None, description="Header for api-key (default: the credential's, or X-API-Key)"
    )


class RestApiInput(ActionModel):
    url: str = Field(description="Absolute http(s) URL, already rendered (path and query percent-encoded)")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(None, description="The request body, already rendered")
    content_type: str | None = Field(
        None, description="Content-Type of the body (default application/json when there is a body)"
    )
    timeout: float = Field(30.0, gt=0, le=3600, description="Seconds one try may take")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    authentication: Authentication | None = None
    expected_status: list[int] | None = Field(
        None, description="Statuses that count as success (default: any 2xx); others fail as usual"
    )

    @field_validator("timeout", "retry", mode="before")
    @classmethod
    def _none_means_default(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return 30.0 if info.field_name == "timeout" else {}
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except Exception as exc:
            raise ValueError(f"not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("headers")
    @classmethod
    def _no_line_breaks(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if any(c in name + header for c in "\r\n"):
                raise ValueError(f"header {name.strip()!r} contains a line break")
        return value


class RestApiOutput(ActionModel):
    status: int | None = Field(description="HTTP status (None in dry-run)")
    headers: dict[str, str] = Field(description="Response headers, names lower-cased")
    body: Any = Field(description="Response body: parsed JSON when the response is JSON, else text")
    request: dict[str, Any] | None = Field(None, description="Dry-run only: what would have been sent")


EXAMPLES = [
    Example(
        description="Create a database: JSON body, bearer credential, 3 retries with exponential backoff",
        example="""\
steps:
  - id: create-database
    name: Create the database
    action: pao:rest-api
    input:
      url: https://db.platform.internal/api/v1/instances
      method: POST
      body: '{"name": "orders-db", "class": "small"}'
      contentType: application/json
      timeout: 30
      retry:
        attempts: 3
        backoff: exponential
      authentication:
        type: bearer
        credential: provisioner
""",
        input={
            "url": "https://db.platform.internal/api/v1/instances",
            "method": "POST",
            "body": '{"name": "orders-db", "class": "small"}',
            "contentType": "application/json",
            "timeout": 30,
            "retry": {"attempts": 3, "backoff": "exponential"},
            "authentication": {"type": "bearer", "credential": "provisioner"},
        },
        expected={"status": 201, "body": {"name": "orders-db"}},
        notes="Outputs status, headers and body; map them with `outputs: {databaseId: response.body.id}`.",
    ),
    Example(
        description="Read a resource with an API key in a custom header",
        example="""\
steps:
  - id: read-quota
    name: Read the team's quota
    action: pao:rest-api
    input:
      url: https://quota.platform.internal/api/v1/teams/payments
      method: GET
      authentication:
        type: api-key
        credential: quota-service
        header: X-Quota-Key
""",
        input={
            "url": "https://quota.platform.internal/api/v1/teams/payments",
            "method": "GET",
            "authentication": {"type": "api-key", "credential": "quota-service", "header": "X-Quota-Key"},
        },
        expected={"status": 200},
    ),
]


def _retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)
    return max(0.0, (when - current).total_seconds())


def _backoff_delay(retry: RetryPolicy, failed_tries: int) -> float:
    """Delay before the next try after `failed_tries` failures, with up to 25% jitter, capped."""
    if retry.backoff == "linear":
        delay = retry.base_delay * failed_tries
    else:
        delay = retry.base_delay * (2 ** (failed_tries - 1))
    delay = min(delay, retry.max_delay)
    return min(delay + random.uniform(0, delay * 0.25), retry.max_delay)


def _parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "").lower()
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


def _response_headers(response: httpx.Response) -> dict[str, str]:
    return {name: ", ".join(response.headers.get_list(name)) for name in response.headers}


def _tries(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


def _credential_name(inp: RestApiInput) -> str:
    if inp.authentication is None:
        return "whether the call needs `authentication`"
    return f"credential {inp.authentication.credential!r}"


def _excerpt(response: httpx.Response) -> str:
    text = response.text
    return text if len(text) <= _BODY_EXCERPT else text[:_BODY_EXCERPT] + "…"


def _auth_headers(
    auth: Authentication, credentials: Mapping[str, Credential], ctx: ActionContext[RestApiInput]
) -> dict[str, str]:
    credential = credentials.get(auth.credential)
    if credential is None and ctx.secrets.get(auth.credential):
        # A secret passed with the run (e.g. by Backstage) under the credential's name.
        secret = ctx.secrets[auth.credential]
        if auth.type == "basic":
            user, _, password = secret.partition(":")
            credential = Credential(username=user, password=password)
        else:
            credential = Credential(token=secret, api_key=secret)
    if credential is None:
        known = ", ".join(sorted(credentials)) or "none"
        raise ActionConfigurationError(
            f"credential {auth.credential!r} is not configured (configured: {known}); "
            f'add it to PAO_CREDENTIALS, e.g. {{"{auth.credential}": {{"token": "..."}}}}, '
            "or pass a secret of that name with the run",
            details={"credential": auth.credential},
        )
    for value in credential.secret_values():
        ctx.add_secret(value)

    def need(value: str | None, what: str) -> str:
        if not value:
            raise ActionConfigurationError(
                f"credential {auth.credential!r} has no {what}, which {auth.type} authentication needs; "
                f"add `{what}` to it in PAO_CREDENTIALS",
                details={"credential": auth.credential},
            )
        return value

    if auth.type == "bearer":
        value = f"Bearer {need(credential.token or credential.api_key, 'token')}"
        ctx.add_secret(value)
        return {"Authorization": value}
    if auth.type == "basic":
        pair = f"{need(credential.username, 'username')}:{need(credential.password, 'password')}"
        encoded = base64.b64encode(pair.encode()).decode()
        ctx.add_secret(pair)
        ctx.add_secret(encoded)
        return {"Authorization": f"Basic {encoded}"}
    header = auth.header or credential.header or "X-API-Key"
    return {header: need(credential.api_key or credential.token, "apiKey")}


def _request_headers(inp: RestApiInput, auth_headers: Mapping[str, str], attempt_key: str) -> dict[str, str]:
    headers = dict(inp.headers)

    def drop(name: str) -> None:
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]

    if inp.body is not None:
        explicit = any(k.lower() == "content-type" for k in headers)
        if inp.content_type is not None or not explicit:
            drop("content-type")
            headers["Content-Type"] = inp.content_type or "application/json"
    for name, value in auth_headers.items():
        drop(name)
        headers[name] = value
    drop("idempotency-key")
    headers["Idempotency-Key"] = attempt_key
    return headers


_MAX_REDIRECTS = 5


async def _send(
    client: httpx.AsyncClient,
    inp: RestApiInput,
    headers: Mapping[str, str],
    content: bytes | None,
    target: str,
) -> httpx.Response:
    """Send, following redirects only within the same origin: credentials never travel to another host."""
    request = client.build_request(inp.method, inp.url, headers=headers, content=content, timeout=inp.timeout)
    origin = (request.url.scheme, request.url.host, request.url.port)
    for _ in range(_MAX_REDIRECTS + 1):
        response = await client.send(request)
        following = response.next_request
        if following is None:
            return response
        await response.aclose()
        url = following.url
        if (url.scheme, url.host, url.port) != origin:
            raise BackendRejectedError(
                f"{target} redirected to another host ({url.scheme}://{url.netloc.decode()}); "
                "PAO does not follow cross-host redirects with credentials — use the final URL",
                details={"url": inp.url, "method": inp.method, "status": response.status_code},
            )
        request = following
    raise BackendRejectedError(
        f"{target} redirected more than {_MAX_REDIRECTS} times; use the final URL",
        details={"url": inp.url, "method": inp.method},
    )


def create_rest_api_action(
    *,
    clients: SharedClients | None = None,
    credentials: Mapping[str, Credential] | None = None,
) -> Action[RestApiInput]:
    """`pao:rest-api`. With `clients`, runs share keep-alive connections (whoever owns `clients` closes
    them); without, each run opens and closes a client of its own."""
    known_credentials: Mapping[str, Credential] = dict(credentials or {})
    if clients is None:
        # Building an SSL context reads the CA bundle (~30 ms); do it once, not per run.
        ssl_context = httpx.create_ssl_context()

        def client_for_run() -> AbstractAsyncContextManager[httpx.AsyncClient]:
            return httpx.AsyncClient(verify=ssl_context)

    else:
        client_for_run = clients.client

    async def handler(ctx: ActionContext[RestApiInput]) -> None:
        inp = ctx.input
        auth = _auth_headers(inp.authentication, known_credentials, ctx) if inp.authentication else {}
        headers = _request_headers(inp, auth, ctx.attempt_key)
        target = f"{inp.method} {inp.url}"

        if ctx.dry_run:
            ctx.logger.info(
                f"dry-run: would send {target} (timeout {inp.timeout}s, retries {inp.retry.attempts})"
            )
            ctx.output("status", None)
            ctx.output("headers", {})
            ctx.output("body", None)
            ctx.output(
                "request", {"method": inp.method, "url": inp.url, "headers": headers, "body": inp.body}
            )
            return

        tries = 1 + inp.retry.attempts
        content = inp.body.encode() if inp.body is not None else None
        failure: ActionError | None = None
        async with client_for_run() as client:
            for attempt in range(1, tries + 1):
                ctx.raise_if_cancelled()
                # One log line per try, when it ends (lines are stored with the outcome anyway).
                this_try = f" (try {attempt}/{tries})"
                started = time.monotonic()
                retry_after: float | None = None
                try:
                    response = await ctx.until_cancelled(
                        _send(client, inp, headers, content, target), timeout=inp.timeout
                    )
                except (httpx.TimeoutException, TimeoutError):
                    failure = ActionTimeoutError(
                        f"{target} did not answer within {inp.timeout:g}s after "
                        f"{_tries(attempt)}; raise `timeout` or check the backend's health",
                        details={
                            "url": inp.url,
                            "method": inp.method,
                            "tries": attempt,
                            "timeout": inp.timeout,
                        },
                    )
                    reason = f"no answer within {inp.timeout:g}s"
                except httpx.TransportError as exc:
                    failure = BackendUnavailableError(
                        f"{target} could not be reached after "
                        f"{_tries(attempt)} ({type(exc).__name__}: {exc}); "
                        "check that the backend is up and the URL is right",
                        details={"url": inp.url, "method": inp.method, "tries": attempt},
                    )
                    reason = f"{type(exc).__name__}: {exc}"
                else:
                    status = response.status_code
                    elapsed = (time.monotonic() - started) * 1000
                    retried = this_try if attempt > 1 else ""
                    ctx.logger.info(f"{target} answered {status} in {elapsed:.0f} ms{retried}")
                    details = {
                        "url": inp.url,
                        "method": inp.method,
                        "status": status,
                        "tries": attempt,
                        "responseBody": _excerpt(response),
                    }
                    if status in inp.expected_status if inp.expected_status else 200 <= status < 300:
                        ctx.output("status", status)
                        ctx.output("headers", _response_headers(response))
                        ctx.output("body", _parse_body(response))
                        return
                    if status in (401, 403):
                        raise CredentialsRefusedError(
                            f"{target} refused the credentials with {status}; check {_credential_name(inp)} "
                            "and its permissions",
                            details=details,
                        )
                    if status in (408, 429):
                        retry_after = _retry_after_seconds(response.headers.get("retry-after"))
                        failure = BackendUnavailableError(
                            f"{target} answered {status} ({'busy' if status == 429 else 'request timeout'}) "
                            f"after {_tries(attempt)}; "
                            "try again later or raise retry.attempts",
                            details=details,
                        )
                    elif status < 500:
                        raise BackendRejectedError(
                            f"{target} rejected the request with {status}: {_excerpt(response)}; "
                            "fix the request (URL, body, headers) and retry",
                            details=details,
                        )
                    else:
                        failure = BackendUnavailableError(
                            f"{target} answered {status} after "
                            f"{_tries(attempt)}; the backend failed — "
                            "retry later or escalate to its owners",
                            details=details,
                        )
                    reason = f"status {status}"
                if attempt == tries:
                    break
                if retry_after is not None:
                    delay = min(retry_after, inp.retry.max_delay)
                    note = f" (Retry-After {retry_after:g}s" + (
                        ", capped at retry.maxDelay)" if delay < retry_after else ")"
                    )
                else:
                    delay, note = _backoff_delay(inp.retry, attempt), ""
                ctx.logger.warning(f"{target}: {reason}{this_try}; retrying in {delay:.2f}s{note}")
                await ctx.sleep(delay)
        assert failure is not None
        raise failure

    return Action(
        id="pao:rest-api",
        description=(
            "Calls an HTTP API once per attempt: rendered URL, method, headers and body; credentials by "
            "reference; retries 5xx, timeouts, connection errors, 408 and 429 (honouring Retry-After) with "
            "linear or exponential backoff and jitter; sends Idempotency-Key so the backend can deduplicate."
        ),
        input_model=RestApiInput,
        output_model=RestApiOutput,
        handler=handler,
        examples=EXAMPLES,
        supports_dry_run=True,
        needs_workspace=False,
    )
