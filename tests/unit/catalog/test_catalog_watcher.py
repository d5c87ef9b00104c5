import shutil
import threading
from pathlib import Path

from pao_backend.catalog.service import CatalogService, ReloadResult
from pao_backend.catalog.watcher import CatalogWatcher
from tests.conftest import SAMPLE_CATALOG

DOC = Path("databases") / "database-postgresql-standard.yaml"


def _version(service: CatalogService) -> str:
    return service.current.items["database-postgresql-standard"].metadata.version


def test_an_edited_document_is_reloaded_and_a_broken_one_keeps_its_last_good_version(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, root)
    service = CatalogService(root)
    reloads: list[ReloadResult] = []
    reloaded = threading.Event()

    def on_reload(result: ReloadResult) -> None:
        reloads.append(result)
        reloaded.set()

    watcher = CatalogWatcher(service, debounce_ms=100, on_reload=on_reload)
    watcher.start()
    try:
        original = (root / DOC).read_text()
        threading.Event().wait(0.5)  # let the watcher subscribe before the first edit
        (root / DOC).write_text(original.replace("version: 1.2.0", "version: 1.3.0"))
        assert reloaded.wait(15), "no reload after the edit"
        assert _version(service) == "1.3.0"

        reloaded.clear()
        (root / DOC).write_text(
            original.replace("version: 1.2.0", "version: 2.0.0").replace("type: select", "type: x")
        )
        assert reloaded.wait(15), "no reload after the broken edit"
        assert reloads[-1].errors
        assert _version(service) == "1.3.0"

        reloaded.clear()
        (root / "notes.txt").write_text("not a catalog document")
        assert not reloaded.wait(1.0)
    finally:
        watcher.stop()
