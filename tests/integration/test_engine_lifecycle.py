"""The engine's start and stop around DBOS's own threads."""

from __future__ import annotations

import threading
from pathlib import Path

import dbos._dbos as dbos_module
import pytest

from pao_backend.orchestration import engine as engine_runtime
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG


def _queue_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.endswith("(queue_thread)") or t.name.startswith("queue-worker-")
    ]


def test_shutdown_stops_dequeuing_before_the_event_loop_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A workflow dequeued after DBOS's loop stopped stays pending on a closed loop and is reported
    # when collected (it failed a CI run once); so no queue thread may outlive the loop.
    settings = Settings(environment="test", data_dir=tmp_path, catalog_dir=SAMPLE_CATALOG)
    engine = engine_runtime.build_engine(settings, workers=True)
    engine_runtime.launch(engine)
    instance = dbos_module._dbos_global_instance
    assert instance is not None
    assert _queue_threads(), "DBOS's queue threads are not where shutdown looks for them"
    alive_when_loop_stopped: list[str] = []
    loop = instance._background_event_loop
    stop = loop.stop

    def recording_stop(*args: object, **kwargs: object) -> None:
        alive_when_loop_stopped.extend(t.name for t in _queue_threads() if t.is_alive())
        stop(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "stop", recording_stop)
    engine_runtime.shutdown()
    engine.db.dispose()
    assert alive_when_loop_stopped == []
