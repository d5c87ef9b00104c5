"""A small, known request history written straight into PAO's tables (for governance API and page tests)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pao_backend.persistence.db import Database
from pao_backend.persistence.tables import ActionRunRow, ComponentRow, EventRow, RequestRow

DB = ("database-postgresql-standard", "platform-databases", "automatic", "rest-api")
KAFKA = ("messaging-kafka-topic", "platform-messaging", "manual", "jira-ticket")


def _request(
    db: Database,
    *,
    offering: tuple[str, str, str, str],
    requester: str,
    created: datetime,
    steps: list[tuple[float, str | None, str]],
    run_state: str,
    run_span: tuple[float, float | None],
    failure_class: str | None = None,
) -> str:
    item, team, mode, action = offering
    request_id = str(uuid.uuid4())
    final = [s for s in steps if s[1] is None][-1]
    component_state = [s for s in steps if s[1] == "c"][-1][2]
    finished = (
        created + timedelta(seconds=final[0]) if final[2] in ("completed", "aborted", "cancelled") else None
    )
    with db.transaction() as session:
        session.add(
            RequestRow(
                id=request_id,
                catalog_id=item,
                item_version="1.0.0",
                kind="item",
                title=f"{item}: seeded",
                values={"name": "seeded"},
                requester=requester,
                requester_teams=["product-team"],
                state=final[2],
                created_at=created,
                updated_at=created,
                finished_at=finished,
                correlation_id=request_id,
                system={},
                outputs={},
            )
        )
        session.flush()
        session.add(
            ComponentRow(
                request_id=request_id,
                component_id="c",
                position=0,
                item_id=item,
                item_version="1.0.0",
                team=team,
                mode=mode,
                depends_on=[],
                current={},
                actions=[{"type": action}],
                manual_actions=[],
                state=component_state,
                round=0,
                outputs={},
            )
        )
        started, ended = run_span
        session.add(
            ActionRunRow(
                request_id=request_id,
                component_id="c",
                index=0,
                type=action,
                attempt=1,
                state=run_state,
                attempt_key=f"{request_id}/c/0/0",
                outputs={},
                ticket_key="MSG-1" if action == "jira-ticket" else None,
                failure_class=failure_class,
                started_at=created + timedelta(seconds=started),
                finished_at=created + timedelta(seconds=ended) if ended is not None else None,
            )
        )
        previous: dict[str | None, str | None] = {}
        for seconds, component, state in steps:
            # The state history is the request's state events, as the engine writes them.
            session.add(
                EventRow(
                    request_id=request_id,
                    component_id=component,
                    type="state" if component is None else "component",
                    body={
                        "state": state,
                        "from": previous.get(component),
                        "reason": "seeded",
                        "message": state,
                    },
                    created_at=created + timedelta(seconds=seconds),
                )
            )
            previous[component] = state
    return request_id


def seed_history(db: Database, now: datetime) -> dict[str, str]:
    """Four requests: a fast automated database, a Kafka topic done by ticket after two days, a Kafka
    topic whose ticket is open for five hours, and a failed database request."""
    day = 86400.0
    ids = {
        "fast": _request(
            db,
            offering=DB,
            requester="user:default/alice",
            created=now - timedelta(days=2),
            steps=[(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (121, "c", "completed"),
                   (121, None, "completed")],
            run_state="completed",
            run_span=(1, 121),
        ),
        "ticket": _request(
            db,
            offering=KAFKA,
            requester="user:default/bob",
            created=now - timedelta(days=3),
            steps=[(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (2, "c", "waiting"),
                   (2 * day + 2, "c", "running"), (2 * day + 3, "c", "completed"),
                   (2 * day + 3, None, "completed")],
            run_state="completed",
            run_span=(2, 2 * day + 2),
        ),
        "open": _request(
            db,
            offering=KAFKA,
            requester="user:default/carol",
            created=now - timedelta(hours=5),
            steps=[(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (2, "c", "waiting")],
            run_state="waiting",
            run_span=(2, None),
        ),
        "failed": _request(
            db,
            offering=DB,
            requester="user:default/alice",
            created=now - timedelta(days=1),
            steps=[(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (31, "c", "failed"),
                   (31, None, "failed")],
            run_state="failed",
            run_span=(1, 31),
            failure_class="backend_unavailable",
        ),
    }  # fmt: skip
    return ids
