"""Reload the catalog when a document in its folder changes (PAO_WATCH_CATALOG=true).

A background thread follows the folder with `watchfiles` and calls `CatalogService.reload()`, which
never lets an invalid document replace its last good version; findings are logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, watch

from pao_backend.catalog.service import CatalogService, ReloadResult

__all__ = ["CatalogWatcher", "is_catalog_file"]

log = logging.getLogger("pao.catalog.watch")


def is_catalog_file(change: Change, path: str) -> bool:
    """Only YAML documents matter (editors' swap and backup files do not)."""
    return Path(path).suffix in (".yaml", ".yml")


class CatalogWatcher:
    """Follows `service.root`; `start()`/`stop()` from the app's lifespan."""

    def __init__(
        self,
        service: CatalogService,
        *,
        debounce_ms: int = 300,
        on_reload: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self.service = service
        self.debounce_ms = debounce_ms
        self.on_reload = on_reload
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pao-catalog-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        root = self.service.root
        log.info("watching %s for catalog changes", root)
        for changes in watch(
            root,
            watch_filter=is_catalog_file,
            debounce=self.debounce_ms,
            step=50,
            stop_event=self._stop,
            raise_interrupt=False,
        ):
            self.reload(sorted(path for _, path in changes))

    def reload(self, changed: list[str]) -> ReloadResult | None:
        try:
            result = self.service.reload()
        except Exception:  # a broken reload must not end the watcher; the last good catalog stays served
            log.exception("catalog reload after a change to %s failed", ", ".join(changed))
            return None
        errors = result.errors
        if errors:
            log.warning(
                "catalog reloaded with %d error(s); invalid documents keep their last good version:\n%s",
                len(errors),
                "\n".join(map(str, errors)),
            )
        elif result.changed:
            log.info("catalog reloaded (version %s) after changes to %s", result.etag, ", ".join(changed))
        if self.on_reload is not None:
            self.on_reload(result)
        return result
