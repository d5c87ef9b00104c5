"""The `pao` command: serve, worker, validate, render, new, diff, ..."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml

if TYPE_CHECKING:
    from pao_backend.catalog.loader import LoadResult
    from pao_backend.catalog.models import Action
    from pao_backend.catalog.store import Catalog

app = typer.Typer(
    name="pao",
    help="PAO, the Platform Automation Orchestrator: serve it, and validate and render catalog documents.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default: PAO_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to bind (default: PAO_PORT or 8000)."),
) -> None:
    """Serve the API, the portal and (unless PAO_WORKERS=false) the workflow workers."""
    import uvicorn

    from pao_backend.app import create_app
    from pao_backend.settings import Settings

    settings = Settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@app.command()
def worker() -> None:
    """Run workflow workers only (no HTTP): share the work of `pao serve` processes on PostgreSQL."""
    import signal
    import threading

    from pao_backend.catalog.service import CatalogService
    from pao_backend.orchestration import engine as engine_runtime
    from pao_backend.settings import Settings

    settings = Settings()
    catalog = CatalogService(settings.catalog_dir, endpoints=settings.resolved_endpoints)
    engine = engine_runtime.build_engine(settings, catalog=lambda: catalog.current, workers=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine_runtime.launch(engine)
    typer.echo(
        f"pao worker {settings.executor_id} running (app version {settings.app_version}); Ctrl-C stops it"
    )
    try:
        stop.wait()
    finally:
        engine_runtime.shutdown()
        engine.db.dispose()


@app.command()
def migrate() -> None:
    """Apply PAO's database migrations (also done on every start)."""
    from pao_backend.persistence.db import Database
    from pao_backend.persistence.migrate import migrate as apply
    from pao_backend.settings import Settings

    database = Database.from_settings(Settings())
    try:
        typer.echo(f"database at revision {apply(database)}")
    finally:
        database.dispose()


# ---- catalog documents: validate, render, new, schema ------------------------------------------------

_FORMATS = ("text", "json", "github")


@app.command()
def validate(
    paths: list[Path] = typer.Argument(
        None, help="Catalog folders or documents to check (default: ./catalog).", show_default=False
    ),
    output_format: str = typer.Option(
        "text", "--format", "-f", help="text (for people), json (for tools) or github (Actions annotations)."
    ),
    changed_since: str | None = typer.Option(
        None,
        "--changed-since",
        metavar="REV",
        help="Only documents changed since the git revision REV, plus the bundles that use changed items.",
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
) -> None:
    """Validate catalog documents: schema, naming, forms, variables, bundles, CODEOWNERS.

    Prints `path:line:col: error|warning CODE: message` plus a hint per finding. Exit 0 clean (warnings
    allowed unless --strict), 1 findings, 2 usage or system error. Codes: docs/platform-teams.md.
    """
    from pao_backend.catalog.report import (
        SelectionError,
        catalog_root_of,
        changed_documents,
        format_report,
        validate_paths,
    )

    if output_format not in _FORMATS:
        typer.echo(f"unknown --format {output_format!r}; use one of {', '.join(_FORMATS)}", err=True)
        raise typer.Exit(2)
    targets = list(paths or [Path("catalog")])
    try:
        if changed_since is not None:
            only: dict[Path, set[Path]] = {}
            for target in targets:
                if not target.exists():
                    raise SelectionError(f"{target}: no such file or folder")
                root = catalog_root_of(target)
                only.setdefault(root, set()).update(changed_documents(root, changed_since))
            report = validate_paths(targets, only=only)
            # versions (G): a breaking change since REV needs a major version bump (E810).
            from pao_backend.governance.versions import VersionSourceError, version_problems

            try:
                for root in only:
                    report.problems.extend(version_problems(root, changed_since))
            except VersionSourceError as exc:
                raise SelectionError(str(exc)) from exc
            report.problems.sort()
        else:
            report = validate_paths(targets)
    except SelectionError as exc:
        typer.echo(f"pao validate: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(format_report(report, output_format))  # type: ignore[arg-type]
    raise typer.Exit(report.exit_code(strict=strict))


@app.command()
def render(
    offering_id: str = typer.Argument(..., metavar="ID", help="Id of a catalog item or bundle."),
    values_file: Path | None = typer.Option(
        None, "--values", help="YAML/JSON file with request values {name, <group>: {<field>: value}}."
    ),
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="The catalog folder."),
    output_format: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Print exactly what each action of an offering would send (JIRA fields, REST method/url/headers/body).

    Nothing is called. Without --values, example values are used: defaults, else values that fit the
    form. Secrets show as ***. Outputs of earlier actions show as <output:key>.
    """
    import json

    from pao_backend.catalog.examples import example_values
    from pao_backend.catalog.loader import load_catalog
    from pao_backend.catalog.values import validate_values
    from pao_backend.errors import PaoError
    from pao_backend.orchestration.planner import SystemInfo, plan

    result = load_catalog(catalog_dir)
    offering = result.catalog.get_offering(offering_id)
    if offering is None:
        known = ", ".join(sorted([*result.catalog.items, *result.catalog.bundles])) or "none"
        errors = [p for p in result.errors if offering_id in p.path]
        for problem in errors:
            typer.echo(str(problem), err=True)
        typer.echo(
            f"pao render: no valid offering {offering_id!r} in {catalog_dir} (valid: {known})", err=True
        )
        raise typer.Exit(2)
    if values_file is not None:
        try:
            values = yaml.safe_load(values_file.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            typer.echo(f"pao render: cannot read {values_file}: {exc}", err=True)
            raise typer.Exit(2) from exc
        problems = validate_values(offering.form, values)
        for error in problems:
            typer.echo(f"{values_file}: {error.path}: {error.message}", err=True)
        if problems:
            raise typer.Exit(1)
    else:
        values = example_values(offering.form)
    endpoints = _render_endpoints(result.catalog)
    secrets = {name: f"example-{name}" for name in _secret_names(result.catalog)}
    system = SystemInfo(
        request_id="req-example",
        user_id="user:default/developer",
        user_name="Dev Eloper",
        user_email="developer@example.com",
        user_teams=("developer-experience",),
        platform={"account": "example-account", "region": "eu-west-1", "environment": "development"},
        short_id="exmpl1",
        secrets=secrets,
    )
    try:
        planned = plan(result.catalog, offering_id, values, system=system, endpoints=endpoints)
    except PaoError as exc:
        typer.echo(f"pao render: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    shown: list[dict[str, object]] = []
    for component in planned.components:
        escalation = component.manual_actions if component.mode == "automatic" else ()
        shown.append(
            {
                "component": component.id,
                "item": f"{component.item_id} {component.item_version}",
                "mode": component.mode,
                "dependsOn": list(component.depends_on),
                "actions": [{"action": a.preview.action_id, **a.preview.display} for a in component.actions],
                "escalation": [{"action": a.preview.action_id, **a.preview.display} for a in escalation],
            }
        )
    if output_format == "json":
        typer.echo(json.dumps({"offering": offering_id, "values": values, "components": shown}, indent=2))
        return
    source = f"values from {values_file}" if values_file else "example values"
    typer.echo(f"# {offering_id} {planned.version} with {source}")
    typer.echo(yaml.dump({"components": shown}, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True))


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (JIRA descriptions, bodies) as readable `|` blocks, long lines unfolded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["width"] = 1_000_000
        super().__init__(*args, **kwargs)


def _str_block(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_block)


def _all_actions(catalog: Catalog) -> list[Action]:
    actions: list[Action] = []
    for item in catalog.items.values():
        actions += item.fulfillment.manual.actions
        if item.fulfillment.automatic is not None:
            actions += item.fulfillment.automatic.actions
    return actions


def _secret_names(catalog: Catalog) -> set[str]:
    """Every `.system.secrets.<name>` the catalog's templates use (`pao render` shows them as ***)."""
    from pao_backend.templating import TemplateError, variables

    names: set[str] = set()
    for action in _all_actions(catalog):
        for text in _strings_in(action.config):
            try:
                found = variables(text)
            except TemplateError:
                continue
            names.update(v.path[1] for v in found if v.namespace == "system" and v.path[0] == "secrets")
    return names


def _strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if "{{" in value else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings_in(v)]
    return []


def _render_endpoints(catalog: Catalog) -> dict[str, str]:
    """Configured endpoints; names nobody configured here render as https://<name>.endpoint.invalid."""
    from pydantic import ValidationError

    from pao_backend.settings import Settings

    try:
        endpoints = dict(Settings().resolved_endpoints)
    except ValidationError:  # this shell's PAO_ settings are not needed to preview
        endpoints = {}
    for action in _all_actions(catalog):
        base = (action.config.get("endpoint") or {}).get("base")
        if isinstance(base, str):
            endpoints.setdefault(base, f"https://{base}.endpoint.invalid")
    return endpoints


new_app = typer.Typer(
    help="Create a starter catalog document (cookiecutter) that validates clean.", no_args_is_help=True
)
app.add_typer(new_app, name="new")


def _ask(value: str | None, question: str, interactive: bool, flag: str, default: str | None = None) -> str:
    if value:
        return value
    if interactive:
        answer: str = typer.prompt(question, default=default)
        return answer
    if default is not None:
        return default
    typer.echo(f"pao new: {flag} is required (or run in a terminal to be asked)", err=True)
    raise typer.Exit(2)


def _load_for_new(catalog_dir: Path) -> LoadResult:
    from pao_backend.catalog.loader import load_catalog

    if not (catalog_dir / "teams.yaml").is_file():
        typer.echo(f"pao new: {catalog_dir}/teams.yaml not found; pass --catalog <folder>", err=True)
        raise typer.Exit(2)
    return load_catalog(catalog_dir)


def _check_new(catalog_dir: Path, target: Path) -> None:
    from pao_backend.catalog.report import format_report, validate_paths

    typer.echo(f"wrote {target}")
    report = validate_paths([target])
    typer.echo(format_report(report, "text"))
    if any(p.code == "E706" for p in report.problems):
        typer.echo("hint: give the new folder to its team in CODEOWNERS, then validate again")
    raise typer.Exit(report.exit_code())


@new_app.command("item")
def new_item(
    category: str | None = typer.Option(None, help="Category folder, e.g. databases (asked if missing)."),
    service: str | None = typer.Option(
        None, help="Service part of the id, e.g. postgresql (asked if missing)."
    ),
    variant: str = typer.Option("standard", help="Variant part of the id."),
    team: str | None = typer.Option(None, help="Owner team id from teams.yaml (asked if missing)."),
    mode: str | None = typer.Option(
        None, help="manual (JIRA only) or automatic (REST with manual fallback)."
    ),
    name: str | None = typer.Option(None, help="Display name (default: from the service)."),
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="The catalog folder."),
    interactive: bool | None = typer.Option(
        None, "--interactive/--no-interactive", help="Ask for missing values (default: when in a terminal)."
    ),
) -> None:
    """Create catalog/<category>/<id>.yaml from the item starter, then validate it."""
    import sys

    from pao_backend.catalog.starters import ItemStarter, StarterError, generate_item

    ask = sys.stdin.isatty() if interactive is None else interactive
    result = _load_for_new(catalog_dir)
    teams = result.catalog.teams
    category = _ask(category, "Category folder (e.g. databases)", ask, "--category")
    service = _ask(service, "Service (e.g. postgresql)", ask, "--service")
    team = _ask(team, f"Owner team ({', '.join(sorted(teams))})", ask, "--team")
    mode = _ask(mode, "Mode (manual or automatic)", ask, "--mode", default="manual")
    if team not in teams:
        typer.echo(f"pao new: team {team!r} is not in teams.yaml ({', '.join(sorted(teams))})", err=True)
        raise typer.Exit(2)
    if mode not in ("manual", "automatic"):
        typer.echo("pao new: --mode is manual or automatic", err=True)
        raise typer.Exit(2)
    try:
        target = generate_item(
            catalog_dir,
            ItemStarter(
                category=category,
                service=service,
                variant=variant,
                team=teams[team],
                mode=mode,
                name=name or "",
            ),
        )
    except StarterError as exc:
        typer.echo(f"pao new: {exc}", err=True)
        raise typer.Exit(2) from exc
    _check_new(catalog_dir, target)


@new_app.command("bundle")
def new_bundle(
    name: str | None = typer.Option(
        None, help="Name part of the id bundle-<name>-<variant> (asked if missing)."
    ),
    variant: str = typer.Option("standard", help="Variant part of the id."),
    item: list[str] = typer.Option(None, "--item", help="Catalog item ids, in dependency order (repeat)."),
    team: str = typer.Option("developer-experience", help="Owner team id from teams.yaml."),
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="The catalog folder."),
    interactive: bool | None = typer.Option(
        None, "--interactive/--no-interactive", help="Ask for missing values (default: when in a terminal)."
    ),
) -> None:
    """Create catalog/bundles/bundle-<name>-<variant>.yaml chaining the given items, then validate it."""
    import sys

    from pao_backend.catalog.starters import BundleStarter, StarterError, generate_bundle

    ask = sys.stdin.isatty() if interactive is None else interactive
    result = _load_for_new(catalog_dir)
    items = result.catalog.items
    name = _ask(name, "Bundle name (e.g. webapp)", ask, "--name")
    chosen = list(item or [])
    if not chosen:
        answer = _ask(None, f"Items, comma-separated, in order ({', '.join(sorted(items))})", ask, "--item")
        chosen = [part.strip() for part in answer.split(",") if part.strip()]
    unknown = [i for i in chosen if i not in items]
    if unknown or team not in result.catalog.teams:
        what = f"unknown item(s) {', '.join(unknown)}" if unknown else f"team {team!r} is not in teams.yaml"
        typer.echo(f"pao new: {what}", err=True)
        raise typer.Exit(2)
    try:
        target = generate_bundle(
            catalog_dir,
            BundleStarter(
                name=name, variant=variant, team=result.catalog.teams[team], items=[items[i] for i in chosen]
            ),
        )
    except StarterError as exc:
        typer.echo(f"pao new: {exc}", err=True)
        raise typer.Exit(2) from exc
    _check_new(catalog_dir, target)


schema_app = typer.Typer(
    help="The catalog/v1 JSON Schemas (for editors and other tools).", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")


@schema_app.command("export")
def schema_export(
    directory: Path = typer.Argument(Path("schemas"), help="Where to write <version>/*.schema.json."),
) -> None:
    """Write the catalog JSON Schemas (catalog-item, catalog-bundle, common-types, teams) to DIRECTORY."""
    import json

    from pao_backend.catalog.schema import load_schemas

    target = directory / "catalog" / "v1"
    try:
        target.mkdir(parents=True, exist_ok=True)
        for file_name, schema in load_schemas("v1").items():
            (target / file_name).write_text(json.dumps(schema, indent=2) + "\n", "utf-8")
            typer.echo(f"wrote {target / file_name}")
    except OSError as exc:
        typer.echo(f"pao schema export: {exc}", err=True)
        raise typer.Exit(2) from exc


# ---- governance: diff, codeowners (G) ----------------------------------------------------------------


@app.command()
def diff(
    old: str = typer.Argument(..., help="The old catalog: a git revision (e.g. main, HEAD~3) or a folder."),
    new: str | None = typer.Argument(
        None, help="The new catalog: a git revision or a folder (default: --catalog)."
    ),
    catalog_dir: Path = typer.Option(
        Path("catalog"), "--catalog", help="The catalog folder (in the git work tree)."
    ),
    output_format: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Per document: breaking changes (removed field, new required field without default, narrowed
    enum/pattern/range, type change, removed output) and whether the version bump is enough.

    Exit 0 when every bump is enough, 1 when a breaking change lacks a major bump (or a version went
    down), 2 on usage errors.
    """
    import json

    from pao_backend.governance.versions import VersionSourceError, diff_sources, format_diffs

    try:
        diffs = diff_sources(old, new, catalog=catalog_dir)
    except VersionSourceError as exc:
        typer.echo(f"pao diff: {exc}", err=True)
        raise typer.Exit(2) from exc
    if output_format == "json":
        typer.echo(
            json.dumps(
                {"old": old, "new": new or str(catalog_dir), "documents": [d.to_dict() for d in diffs]},
                indent=2,
            )
        )
    else:
        typer.echo(format_diffs(diffs))
    failing = [
        d for d in diffs if not d.bump_ok and (d.breaking or d.actual_bump in ("downgrade", "invalid"))
    ]
    raise typer.Exit(1 if failing else 0)


codeowners_app = typer.Typer(
    help="CODEOWNERS in the loop: every document, schema and the calendar reviewed by the right team.",
    no_args_is_help=True,
)
app.add_typer(codeowners_app, name="codeowners")


@codeowners_app.command("check")
def codeowners_check(
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="The catalog folder."),
    repository: Path | None = typer.Option(None, help="Repository root (default: the catalog's parent)."),
    architecture_team: str = typer.Option("architecture", help="Team that owns schemas and teams.yaml."),
    output_format: str = typer.Option("text", "--format", "-f", help="text, json or github."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings (stale rules) too."),
) -> None:
    """Check CODEOWNERS: each document owned by its metadata.owner.team's handle, schemas and teams.yaml by
    the architecture team, the calendar by its owner, no orphans. Exit 0 clean, 1 findings, 2 usage."""
    from pao_backend.catalog.report import ValidationReport, format_report
    from pao_backend.governance.ownership import check_ownership

    if output_format not in _FORMATS or not catalog_dir.is_dir():
        typer.echo(f"pao codeowners check: no catalog folder {catalog_dir} or bad --format", err=True)
        raise typer.Exit(2)
    root = repository or catalog_dir.resolve().parent
    result = check_ownership(root, catalog_dir, architecture_team=architecture_team)
    report = ValidationReport(problems=result.problems, documents=len(result.files))
    typer.echo(format_report(report, output_format))  # type: ignore[arg-type]
    raise typer.Exit(result.exit_code(strict=strict))


@codeowners_app.command("generate")
def codeowners_generate(
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="The catalog folder."),
    repository: Path | None = typer.Option(None, help="Repository root (default: the catalog's parent)."),
    default_owner: str = typer.Option("@acme/pao-maintainers", help="Owner of everything else (`*`)."),
    architecture_team: str = typer.Option("architecture", help="Team that owns schemas and teams.yaml."),
    write: bool = typer.Option(False, "--write", help="Write <repository>/CODEOWNERS instead of printing."),
) -> None:
    """Generate CODEOWNERS from teams.yaml and the catalog's owner teams."""
    from pao_backend.governance.ownership import generate_codeowners

    if not (catalog_dir / "teams.yaml").is_file():
        typer.echo(f"pao codeowners generate: {catalog_dir}/teams.yaml not found", err=True)
        raise typer.Exit(2)
    root = repository or catalog_dir.resolve().parent
    text = generate_codeowners(
        root, catalog_dir, default_owner=default_owner, architecture_team=architecture_team
    )
    if write:
        (root / "CODEOWNERS").write_text(text, "utf-8")
        typer.echo(f"wrote {root / 'CODEOWNERS'}")
    else:
        typer.echo(text, nl=False)
