"""The ``syndicate`` command line.

Exit codes: 0 success; 1 the work ran but not everything was published (or a command failed);
2 invalid input or configuration (every problem is printed on stderr).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from .base.inputs import InputError
from .base.logging import configure_logging
from .config.loading import load_config
from .errors import ConfigError, ContentError, SyndicateError
from .ledger import Publication
from .ledger.filters import STATES, check_choice, check_in_ledger, check_locale, nothing_matched
from .model.config import Config
from .model.item import channel_names
from .operations.holds import HELD_STATES, held_note
from .runtime import Runtime

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INCOMPLETE, EXIT_INVALID = 0, 1, 2


def config_option(fn: F) -> F:
    """``--config DIR`` (default ``$SYNDICATE_CONFIG``, else ``./config``)."""
    return click.option(
        "--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Config directory (default: $SYNDICATE_CONFIG, else ./config).")(fn)


def _err(msg: str) -> None:
    click.echo(msg, err=True)


@contextmanager
def _handled() -> Iterator[None]:
    """Turn our errors into messages and exit codes; anything else is a bug and shows a traceback."""
    try:
        yield
    except ConfigError as exc:
        _err(f"invalid configuration ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}):")
        for p in exc.problems:
            _err(f"  {p}")
        sys.exit(EXIT_INVALID)
    except (ContentError, InputError) as exc:
        _err(f"error: {exc}")
        sys.exit(EXIT_INVALID)
    except SyndicateError as exc:
        _err(f"error: {exc}")
        sys.exit(EXIT_INCOMPLETE)


def _columns_option(fn: F) -> F:
    """``--column CSV_COLUMN=FIELD`` (repeatable): read a CSV file's column as an item field."""
    return click.option(
        "--column", "columns", multiple=True, metavar="CSV_COLUMN=FIELD",
        help="Read this CSV column as this item field, e.g. 'Headline=title' (repeatable; docs/items.md).")(fn)


def _runtime(config_dir: Path | None, *, embedded: bool = False, **kw: Any) -> Runtime:
    return Runtime.create(config=config_dir, redis_url="" if embedded else None, **kw)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="syndicate")
def main() -> None:
    """syndicate: localize approved content and publish it to every channel, exactly once.

    Environment: SYNDICATE_CONFIG (config directory), SYNDICATE_DATABASE_URL (ledger; default
    sqlite:///syndicate.db), SYNDICATE_BROKER_URL (broker: amqp://... for RabbitMQ or redis://...),
    SYNDICATE_REDIS_URL (Redis for locks, caps and caches, and the broker when SYNDICATE_BROKER_URL
    is unset; both unset means embedded mode: everything in one process), SYNDICATE_OUTBOX
    (sandbox output; default ./outbox), SYNDICATE_LOG_FORMAT (json|console), SYNDICATE_LOG_LEVEL.
    """
    configure_logging(level=os.environ.get("SYNDICATE_LOG_LEVEL") or "WARNING")


@main.command()
@config_option
@click.option("--skip-secrets", is_flag=True, help="Do not check that ${VAR} references are set.")
def validate(config_dir: Path | None, skip_secrets: bool) -> None:
    """Check the config directory: every error, with file, line and field.

    Problems are listed by file and line; warnings (valid, but probably not meant: a window that
    runs overnight, a locale without a region) are marked 'warning:'. Exit 0 when valid (warnings
    or not), 2 when not (problems on stderr).
    """
    from .config.problems import sort_problems

    try:
        cfg = load_config(config_dir, check_secrets=not skip_secrets)
    except ConfigError as exc:
        n, w = len(exc.problems), len(exc.warnings)
        _err(f"invalid configuration ({n} problem{'s' if n != 1 else ''}"
             + (f", {w} warning{'s' if w != 1 else ''}" if w else "") + "):")
        for p in sort_problems([*exc.problems, *exc.warnings]):
            _err(f"  {p}")
        sys.exit(EXIT_INVALID)
    for p in cfg.warnings:
        _err(f"  {p}")
    locales = sorted({loc for r in cfg.routes.values() for loc in r.locales})
    w = len(cfg.warnings)
    click.echo(f"{cfg.directory}: valid: {len(cfg.routes)} routes ({', '.join(sorted(cfg.routes))}), "
               f"{len(cfg.accounts)} accounts, {len(locales)} locales"
               + (f"; {w} warning{'s' if w != 1 else ''}" if w else ""))


@main.command()
@config_option
def migrate(config_dir: Path | None) -> None:
    """Create or upgrade the ledger schema ($SYNDICATE_DATABASE_URL)."""
    with _handled():
        from .ledger import Ledger

        with Ledger() as led:
            before, after = led.migrate()
        where = led.display_url
        click.echo(f"ledger at {where} is up to date (schema {after})" if before == after else
                   f"ledger at {where} migrated from {f'schema {before}' if before else 'empty'} to schema {after}")


def _load_items(sources: tuple[str, ...], cfg: Config, *, columns: tuple[str, ...] = ()
                ) -> tuple[list[Any], list[tuple[str, str]], int]:
    """The items of the valid sources, ``(source, reason)`` for each source refused, and how many
    sources were read (a directory counts as its item files)."""
    from .intake.batch import load_batch
    from .intake.csv_items import parse_columns

    progress = _Progress("")
    batch = load_batch(sources, limits=cfg.intake_limits, channels=channel_names(cfg.registry.names(), cfg.accounts),
                       stdin=sys.stdin.buffer, rename=parse_columns(columns),
                       on_progress=lambda label, done, total: progress.update(done, total, label=label, verb="checked"))
    progress.close()
    return batch.items, batch.refused, batch.sources


def _read_items(sources: tuple[str, ...], cfg: Config, *, submitting: bool = True,
                columns: tuple[str, ...] = ()) -> list[Any]:
    """Every source's items, or exit 2 naming every refused source (all or nothing)."""
    items, problems, count = _load_items(sources, cfg, columns=columns)
    if problems:
        for _src, p in problems:
            _err(p)
        _err(f"{len(problems)} of {count} item file(s) refused" + ("; nothing was submitted" if submitting
                                                                    else ""))
        sys.exit(EXIT_INVALID)
    return items


def _describe(sub: Any) -> str:
    states = Counter(p.state for p in sub.publications)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    if sub.status == "unchanged":
        return f"{sub.item_id} r{sub.revision}: already submitted with this revision ({summary or 'no publications'})"
    extra = f"; superseded {len(sub.superseded)} open publication(s) of older revisions" if sub.superseded else ""
    return f"{sub.item_id} r{sub.revision}: planned {len(sub.publications)} publication(s) ({summary}){extra}"


@main.command()
@config_option
@click.argument("files", nargs=-1, required=True)
@click.option("--now", "ignore_schedule", is_flag=True,
              help="Plan every publication for now, ignoring publish_at, windows, gaps and stagger.")
@_columns_option
def enqueue(config_dir: Path | None, files: tuple[str, ...], ignore_schedule: bool, columns: tuple[str, ...]) -> None:
    """Submit the items in FILE(s) for a worker to publish.

    A FILE is an item file (YAML or JSON; '-' reads stdin), a directory (its *.yaml, *.yml and
    *.json files, sorted by name, not its subdirectories) or a CSV file (one item a row; columns
    and --column in docs/items.md). All are validated first; if any file or row is invalid, none
    is submitted (exit 2) and every problem is listed with its file, line or row, and field.
    """
    from .intake.producer import submit

    with _handled(), _runtime(config_dir) as rt:
        items = _read_items(files, rt.config, columns=columns)
        # On a terminal the lines below show the progress; sent elsewhere, a counter on stderr does.
        progress = _Progress("submitting") if not sys.stdout.isatty() and len(items) > 1 else None
        for n, item in enumerate(items, 1):
            click.echo(_describe(submit(item, runtime=rt, ignore_schedule=ignore_schedule, actor="cli")))
            if progress is not None:
                progress.update(n, len(items), verb="submitted")
        if progress is not None:
            progress.close()
        if rt.embedded:
            click.echo("embedded mode (no SYNDICATE_BROKER_URL or SYNDICATE_REDIS_URL): a 'syndicate worker' "
                       "using this ledger will "
                       "publish them", err=True)


@main.command()
@config_option
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: settings.yaml worker.processes, else 1).")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Publishing threads per process: publish, unpublish, reconcile (default: settings.yaml "
                   "worker.threads, else 8).")
@click.option("--prepare-threads", type=click.IntRange(1, 64), default=None,
              help="Intake and localization threads per process, apart from --threads (default: settings.yaml "
                   "worker.prepare_threads, else 2).")
@click.option("--no-dispatcher", is_flag=True,
              help="Do not run the dispatcher in this worker (run 'syndicate scheduler' elsewhere).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics, /healthz and /readyz on this port (with --processes N, from the parent).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address for --metrics-port (0.0.0.0 in a container, for probes and Prometheus).")
def worker(config_dir: Path | None, processes: int | None, threads: int | None, prepare_threads: int | None,
           no_dispatcher: bool, metrics_port: int | None, metrics_host: str) -> None:
    """Run workers until SIGTERM/SIGINT; SIGHUP reloads the config.

    Refuses to start on an invalid config (exit 2). On SIGHUP the config directory is validated
    again: an invalid one is logged and the running config kept (docs/operations.md). With
    SYNDICATE_BROKER_URL (RabbitMQ or Redis) or SYNDICATE_REDIS_URL, any number of workers on any
    machines share the queue; without either the worker runs in embedded mode on the local ledger.
    An unreachable RabbitMQ stops the start with the URL named (password hidden).
    """
    from .operations.health import build_ops_server
    from .worker.actors import ACTOR_NAMES
    from .worker.host import serve_forever, supervise

    configure_logging(level=os.environ.get("SYNDICATE_LOG_LEVEL") or "INFO")
    with _handled():
        cfg = load_config(config_dir)
        n = processes or cfg.worker.processes
        m = threads or cfg.worker.threads
        k = prepare_threads or cfg.worker.prepare_threads
        queues = sorted(set(ACTOR_NAMES.values()))
        if n > 1:
            argv = ["worker", "--processes", "1", "--threads", str(m), "--prepare-threads", str(k)]
            if config_dir:
                argv += ["--config", str(config_dir)]
            if no_dispatcher:
                argv.append("--no-dispatcher")
            if metrics_port is None:
                sys.exit(supervise(n, argv))
            # The children write their metrics to files in one directory; the parent serves them merged.
            from .base.brokerurl import resolve_broker_urls
            from .ledger import Ledger
            from .operations.metrics import mark_dead, prepare_multiprocess_dir
            from .runtime import REDIS_NAMESPACE

            urls = resolve_broker_urls(None, None, os.environ)
            mdir = prepare_multiprocess_dir()
            ledger = Ledger()
            ops = build_ops_server(metrics_host, metrics_port, ledger=ledger, redis_url=None, broker_url=urls.broker,
                                   namespace=os.environ.get("SYNDICATE_REDIS_NAMESPACE") or REDIS_NAMESPACE,
                                   load_config=functools.partial(load_config, cfg.directory), queues=queues,
                                   multiprocess_dir=str(mdir.path)).start()
            try:
                code = supervise(n, argv, on_child_exit=lambda pid: mark_dead(pid, str(mdir.path)))
            finally:
                ops.stop()
                ledger.close()
                mdir.close()
            sys.exit(code)
        with Runtime.create(config=cfg) as rt:
            own = None if metrics_port is None else build_ops_server(
                metrics_host, metrics_port, ledger=rt.ledger, redis_url=None, broker_url=rt.broker_url,
                namespace=rt.namespace,
                load_config=functools.partial(load_config, cfg.directory), queues=queues,
                broker=rt.broker if rt.embedded else None).start()
            try:
                code = serve_forever(rt, threads=m, dispatcher=not no_dispatcher, prepare_threads=k)
            finally:
                if own is not None:
                    own.stop()
        sys.exit(code)


@main.command()
@config_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--now", "ignore_schedule", is_flag=True,
              help="Publish at once, ignoring publish_at, posting windows, gaps and stagger.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Publishing threads (intake and localization get settings.yaml worker.prepare_threads, else 2).")
@click.option("--timeout", type=click.IntRange(1), default=600, show_default=True,
              help="Stop waiting after this many seconds; what is still pending is listed with its next attempt.")
@_columns_option
def run(config_dir: Path | None, files: tuple[str, ...], ignore_schedule: bool, threads: int, timeout: int,
        columns: tuple[str, ...]) -> None:
    """Embedded run: submit FILE(s), publish every due publication, print what this run did.

    A FILE is an item file (YAML or JSON), a directory (its *.yaml, *.yml and *.json files, sorted,
    not its subdirectories) or a CSV file (one item a row, all rows or none: docs/items.md).

    Runs in this process (in-process broker, the ledger from SYNDICATE_DATABASE_URL or
    ./syndicate.db) until every publication that is due has gone out or needs a human. A retry
    (after a 500 or a refused connection) that comes due before --timeout is waited for; one due
    later is listed with its time. Publications planned for later (posting windows, evergreen
    repeats) are left for 'syndicate worker'. A file that is invalid is reported with its reason
    and the valid ones still go out.

    Exit 0 when every due publication was published or skipped by a route's rules; 1 when one
    failed, is in doubt, awaits review, waits for a held account (expired credentials: see
    'syndicate accounts reset'), or is still pending when the run ends; 2 when an item file is
    invalid (the valid ones are still published) or the config is (nothing runs).
    """
    from .intake.producer import submit
    from .worker.embedded import run_embedded

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        items, refused, count = _load_items(files, rt.config, columns=columns)
        for _src, problem in refused:
            _err(problem)
        if refused and not items:
            _err(f"{len(refused)} of {count} item file(s) refused; nothing was submitted")
            sys.exit(EXIT_INVALID)
        subs = [submit(i, runtime=rt, ignore_schedule=ignore_schedule, actor="cli") for i in items]
        for s in subs:
            click.echo(_describe(s))
        keys = [(s.item_id, s.revision) for s in subs]
        # What existed before this run, so the summary counts what the run itself did.
        before = {p.id: p.state for s in subs if s.status == "unchanged" for p in s.publications}

        def current() -> list[Publication]:
            out: list[Publication] = []
            for item_id, rev in keys:
                out.extend(rt.ledger.publications(item_id=item_id, revision=rev))
            return out

        progress = _Progress("publishing")
        result = run_embedded(rt, current, before=before, threads=threads, timeout=timedelta(seconds=timeout),
                              on_progress=progress.update)
        progress.close()
        for line in result.summary():
            click.echo(line)
        if refused:
            click.echo(f"{len(refused)} of {count} item file(s) refused and not submitted: "
                       + ", ".join(src for src, _ in refused))
        for line in result.problems():
            _err(line)
        sys.exit(EXIT_INVALID if refused else EXIT_OK if result.complete else EXIT_INCOMPLETE)


class _Progress:
    """One self-rewriting status line on stderr, only when stderr is a terminal (nothing on a pipe)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.shown = False

    def update(self, done: int, total: int, note: str | None = None, *, label: str | None = None,
               verb: str = "settled") -> None:
        if not self.tty or not total:
            return
        line = f"{label or self.label}: {done}/{total} {verb}" + (f" · {note}" if note else "")
        click.echo(f"\r\x1b[K{line}", err=True, nl=False)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def _local(pub: Publication, cfg: Config) -> str:
    route = cfg.routes.get(pub.region)
    if route is None:
        return ""
    return pub.scheduled_for.astimezone(ZoneInfo(route.timezone)).strftime("%Y-%m-%d %H:%M %Z")


@main.command()
@config_option
@click.argument("item_id")
@click.option("--revision", type=int, default=None, help="Revision (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(config_dir: Path | None, item_id: str, revision: int | None, fmt: str) -> None:
    """Show an item's publications: state, planned time (UTC and local), back-link, last error."""
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        stored = rt.ledger.item(item_id, revision)
        if stored is None and revision is not None and rt.ledger.item(item_id) is not None:
            check_choice("revision", str(revision), [str(r) for r in rt.ledger.item_revisions(item_id)],
                         where=f"of item {item_id!r}")
        if stored is None:
            _err(f"item {item_id!r} not found in the ledger")
            sys.exit(EXIT_INCOMPLETE)
        pubs = rt.ledger.publications(item_id=item_id, revision=stored.item.revision)
        held = rt.ledger.held_accounts()
        from .operations.versions import version_history

        history = [h for h in version_history(rt.ledger, item_id)
                   if len(h.versions) > 1 or any(v.state == "unpublished" for v in h.versions)]
        deletes = rt.ledger.operations(item_id=item_id)
        if fmt == "json":
            click.echo(json.dumps({
                "item_id": item_id, "revision": stored.item.revision, "state": stored.state,
                "history": [{"locale": h.locale, "account": h.account, "slot": h.slot,
                             "versions": [v.as_json() for v in h.versions]} for h in history],
                "deletes": [{"operation": o.id, "account": o.account, "locale": o.locale, "remote_id": o.remote_id,
                             "state": o.state, "last_error": o.last_error} for o in deletes],
                "publications": [{
                    "id": p.id, "key": p.key, "locale": p.locale, "account": p.account, "slot": p.slot,
                    "state": p.state, "scheduled_for": p.scheduled_for.isoformat(),
                    "scheduled_local": _local(p, rt.config), "permalink": p.permalink,
                    "tagged_url": p.tagged_url, "attempts": p.attempts, "last_error": p.last_error,
                    "waiting": held_note(p, held),
                } for p in pubs]}, indent=2, ensure_ascii=False))
        else:
            click.echo(f"{item_id} revision {stored.item.revision} ({stored.state}), {len(pubs)} publication(s)")
            for p in pubs:
                when = p.scheduled_for.strftime("%Y-%m-%d %H:%M UTC")
                click.echo(f"  {p.locale:<10} {p.account:<20} #{p.slot} {p.state:<15} {when} / {_local(p, rt.config)}"
                           f"  {p.permalink or ''}")
                if p.last_error and p.state != "published":
                    click.echo(f"      {p.last_error}")
                note = held_note(p, held)
                if note:
                    click.echo(f"      {note}")
            for h in history:
                click.echo(f"  versions of {h.locale} {h.account} #{h.slot}:")
                for v in h.versions:
                    click.echo(f"      r{v.revision:<4} {v.state:<12} {v.how or '':<20} {v.utm_content or '':<40} "
                               f"{(v.text_hash or '')[:12]:<12} {v.permalink or ''}")
            for o in deletes:
                click.echo(f"  delete {o.account} {o.remote_id}: {o.state}"
                           + (f" ({o.last_error})" if o.last_error and o.state != "done" else ""))


@main.command()
@config_option
@click.option("--campaign", default=None, help="Only this campaign.")
@click.option("--item", "item_id", default=None, help="Only this item.")
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), help="Only these states (repeatable).")
@click.option("--utm-content", "utm_content", default=None,
              help="Only the post whose utm_content is this value (as analytics shows it); exit 1 if none.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "html"]), default=None,
              help="table (default on a terminal), csv (default otherwise), json, or html: a self-contained "
                   "page with a chart, for a campaign.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.option("--wide", is_flag=True, help="table: every column in full, however wide the terminal.")
def report(config_dir: Path | None, campaign: str | None, item_id: str | None, states: tuple[str, ...],
           utm_content: str | None, fmt: str | None, output: Path | None, wide: bool) -> None:
    """Export publications with back-links, UTM fields and engagement, for attribution.

    Rows come by planned time. The table fits the terminal (long values shortened or wrapped,
    rarely needed columns dropped; --wide shows all); CSV leaves absent values empty and JSON
    gives them as null. --utm-content finds the post behind a value seen in analytics.
    """
    from .operations.report import report_rows, write_report

    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "csv"
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        check_in_ledger(rt.ledger, "campaign", "campaign", campaign)
        check_in_ledger(rt.ledger, "item", "item_id", item_id)
        zones = {r.region: r.timezone for r in rt.config.routes.values()}
        rows = report_rows(rt.ledger, campaign=campaign, item_id=item_id, states=states or None,
                           utm_content=utm_content, zones=zones)
        if utm_content is not None and not rows:
            _err(f"no publication has utm_content {utm_content!r}")
            sys.exit(EXIT_INCOMPLETE)
        if not rows:
            _err(nothing_matched("publications", {"campaign": campaign, "item": item_id, "state": states}))
        text = write_report(rows, fmt, title=campaign or item_id or utm_content, wide=wide)
        if output:
            output.write_text(text, encoding="utf-8")
            click.echo(f"wrote {output}", err=True)
        else:
            click.echo(text, nl=False)


def _reviewer(by: str | None) -> str:
    if by:
        return by
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@main.command("review")
@config_option
@click.argument("item_id")
@click.option("--locale", required=True, help="The localization to review, e.g. de-DE.")
@click.option("--revision", type=int, default=None, help="Revision (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def review_localization(config_dir: Path | None, item_id: str, locale: str, revision: int | None, fmt: str) -> None:
    """Show an item's localization next to its source, field by field, with where each came from.

    Kinds: human (the region's translation), machine (fresh from the engine), cache (the engine's
    earlier translation of the same text), source (the source text, unchanged).
    """
    import shutil

    from .base.terminal import printable_json
    from .localization.review import format_review, show_review

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        r = show_review(rt.ledger, item_id, locale, revision=revision)
        if fmt == "json":
            click.echo(printable_json(json.dumps({
                "item_id": r.item_id, "revision": r.revision, "locale": r.locale, "source_locale": r.source_locale,
                "state": r.state, "engine": r.engine, "rtl": r.rtl, "warnings": list(r.warnings), "error": r.error,
                "fields": [{"name": f.name, "kind": f.kind, "source": f.source, "localized": f.localized,
                            "strategy": f.strategy, "answer": f.answer} for f in r.fields],
                "refused": r.refused,
                "publications": [{"id": p.id, "key": p.key, "account": p.account, "state": p.state}
                                 for p in r.publications]}, indent=2, ensure_ascii=False)))
        else:
            click.echo(format_review(r, width=shutil.get_terminal_size((100, 24)).columns))


@main.command()
@config_option
@click.argument("item_id")
@click.option("--locale", required=True, help="The reviewed localization, e.g. de-DE.")
@click.option("--by", default=None, help="Who approves (default: the login name); recorded in the ledger.")
@click.option("--revision", type=int, default=None, help="Revision (default: the newest).")
def approve(config_dir: Path | None, item_id: str, locale: str, by: str | None, revision: int | None) -> None:
    """Release an item's publications in LOCALE that wait for review (they are sent when due).

    Exit 1 when nothing was waiting.
    """
    from .localization.review import approve_review

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        moved = approve_review(rt.ledger, item_id, locale, by=_reviewer(by), revision=revision)
        if not moved:
            _err(f"nothing awaits review for {item_id} in {locale}")
            sys.exit(EXIT_INCOMPLETE)
        click.echo(f"approved {len(moved)} publication(s) of {item_id} in {locale}: "
                   + ", ".join(p.account for p in moved))


@main.command()
@config_option
@click.argument("item_id")
@click.option("--locale", required=True, help="The reviewed localization, e.g. de-DE.")
@click.option("--reason", required=True, help="Why; recorded with the cancelled publications.")
@click.option("--by", default=None, help="Who rejects (default: the login name); recorded in the ledger.")
@click.option("--revision", type=int, default=None, help="Revision (default: the newest).")
def reject(config_dir: Path | None, item_id: str, locale: str, reason: str, by: str | None,
           revision: int | None) -> None:
    """Cancel an item's publications in LOCALE that wait for review, with a reason.

    To publish a corrected text, submit a new revision with a human translation for the locale.
    Exit 1 when nothing was waiting.
    """
    from .localization.review import reject_review

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        moved = reject_review(rt.ledger, item_id, locale, by=_reviewer(by), reason=reason, revision=revision)
        if not moved:
            _err(f"nothing awaits review for {item_id} in {locale}")
            sys.exit(EXIT_INCOMPLETE)
        click.echo(f"rejected {len(moved)} publication(s) of {item_id} in {locale}: "
                   + ", ".join(p.account for p in moved))


@main.command()
@config_option
@click.argument("source")
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option("--channel", "channels", multiple=True, help="Only this account or adapter (repeatable).")
@click.option("--now", "ignore_schedule", is_flag=True, help="Plan every post for now, as 'run --now' does.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_columns_option
def preview(config_dir: Path | None, source: str, locales: tuple[str, ...], channels: tuple[str, ...],
            ignore_schedule: bool, fmt: str, columns: tuple[str, ...]) -> None:
    """Show every post the routes would make for SOURCE, without publishing anything.

    SOURCE is an item file (YAML or JSON; '-' reads stdin), a CSV file of one item row, or the id
    of an item in the ledger.
    For each locale and account: the final text (or HTML), its length against the channel's
    limit, the tagged link, thread parts and warnings, and the post's first comment with its own
    length and limit. Rendered by the same code as publishing.
    Exit 0 when every post fits and has its translation, 1 otherwise, 2 on invalid input.
    """
    from .localization import translation_cache
    from .operations.preview import preview_item, preview_stored

    is_file = source == "-" or Path(source).is_file()
    with _handled(), Runtime.create(config=config_dir, migrate=not is_file) as rt:
        locales, channels = _preview_filters(rt, None if is_file else source, locales, channels)
        if is_file:
            found = _read_items((source,), rt.config, submitting=False, columns=columns)
            if len(found) != 1:
                _err(f"{source}: holds {len(found)} items; preview shows one (name an item file, or a CSV file "
                     "of one row)")
                sys.exit(EXIT_INVALID)
            [item] = found
            # Read the translation cache where there is one; a file preview never creates a ledger.
            has_ledger = rt.ledger.exists()
            redis = rt.redis()
            cache = translation_cache(redis, rt.namespace, rt.ledger) if redis is not None or has_ledger else None
            posts = preview_item(rt, item, now=rt.ledger.now(), locales=locales or None, channels=channels or None,
                                 ignore_schedule=ignore_schedule, cache=cache)
        else:
            posts = preview_stored(rt, source, locales=locales or None, channels=channels or None)
        if fmt == "json":
            click.echo(json.dumps([p.as_json() for p in posts], indent=2, ensure_ascii=False))
        else:
            for p in posts:
                local = ""
                route = rt.config.routes.get(p.region)
                if route is not None:
                    local = p.scheduled_for.astimezone(ZoneInfo(route.timezone)).strftime(" (%Y-%m-%d %H:%M %Z)")
                label = rt.adapter(p.account).label if p.account in rt.config.accounts else p.channel
                state = "awaiting review" if p.state == "awaiting_review" else p.state
                kind = " · first comment" if p.kind == "first_comment" else ""
                click.echo(f"== {p.locale} · {p.account} ({label}) · slot {p.slot}{kind} · "
                           f"{p.scheduled_for:%Y-%m-%d %H:%M} UTC{local} · {state}")
                if p.error:
                    click.echo(f"   {p.error}")
                    continue
                for i, part in enumerate(p.parts or (p.text,), 1):
                    if p.parts:
                        click.echo(f"-- part {i}/{len(p.parts)}")
                    click.echo(part)
                click.echo(f"-- {p.length}/{p.limit} · {p.format} · link {p.link}")
                for w in p.warnings:
                    click.echo(f"   warning: {w}")
                click.echo("")
        if not posts:
            _err(nothing_matched("posts", {"locale": locales, "channel": channels}))
        bad = [p for p in posts if p.error and p.state not in ("skipped", "published", "cancelled")]
        over = [p for p in posts if p.limit and p.length > p.limit]
        sys.exit(EXIT_INCOMPLETE if bad or over else EXIT_OK)


def _preview_filters(rt: Runtime, item_id: str | None, locales: tuple[str, ...], channels: tuple[str, ...]
                     ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--locale`` and ``--channel`` checked against what the routes (or the stored item) have."""
    if item_id is None:
        known_locales = sorted({loc for r in rt.config.routes.values() for loc in r.locales})
        known_channels = sorted(set(rt.config.accounts) | {a.adapter for a in rt.config.accounts.values()})
        where = "in the routes"
    else:
        stored = rt.ledger.item(item_id)
        revision = stored.item.revision if stored is not None else None
        known_locales = rt.ledger.distinct_values("locale", item_id=item_id, revision=revision)
        known_channels = sorted(set(rt.ledger.distinct_values("account", item_id=item_id, revision=revision))
                                | set(rt.ledger.distinct_values("channel", item_id=item_id, revision=revision)))
        where = f"of item {item_id!r}"
    if item_id is not None and not known_locales:
        return locales, channels  # not in the ledger: preview_stored says so
    return (tuple(check_locale(loc, known_locales, where=where) for loc in locales),
            tuple(check_choice("channel", c, known_channels, where=where) for c in channels))


@main.group()
def accounts() -> None:
    """Channel accounts: their status, and putting one back in service."""


@accounts.command("list")
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def accounts_list(config_dir: Path | None, fmt: str) -> None:
    """Every account with its adapter and status (ok, needs_credentials, disabled)."""
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        rows = []
        for acc_id, acc in sorted(rt.config.accounts.items()):
            status, reason = rt.ledger.account_status(acc_id)
            counts = rt.ledger.count_by_state(account=acc_id) if status != "ok" else {}
            held = sum(counts.get(str(s), 0) for s in HELD_STATES)
            rows.append({"account": acc_id, "adapter": acc.adapter, "enabled": acc.enabled, "status": status,
                         "reason": reason, "held": held})
        if fmt == "json":
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for r in rows:
            line = f"{r['account']:<24} {r['adapter']:<10} {r['status']:<18}"
            if not r["enabled"]:
                line += " (disabled in accounts.yaml)"
            if r["status"] != "ok":
                line += f" {r['held']} held: {r['reason'] or ''}"
            click.echo(line.rstrip())


@accounts.command("reset")
@config_option
@click.argument("account")
@click.option("--by", "by", default=None, help="Who fixed it (recorded in the audit trail).")
def accounts_reset(config_dir: Path | None, account: str, by: str | None) -> None:
    """Mark ACCOUNT ok again after renewing its credentials or fixing its endpoint.

    Its held publications go out as they come due; publications that already failed stay failed
    and can be re-queued with 'syndicate replay --account ACCOUNT'.
    """
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        check_choice("account", account, sorted(rt.config.accounts), where="in accounts.yaml")
        before, _ = rt.ledger.account_status(account)
        rt.ledger.set_account_status(account, "ok", f"reset from {before}", actor=f"cli:{by or 'operator'}")
        click.echo(f"{account}: {before} -> ok")


@main.command("serve-feeds")
@click.option("--directory", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("feeds"),
              show_default=True, help="The feeds directory (options.directory of the feeds accounts).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
def serve_feeds(directory: Path, host: str, port: int) -> None:
    """Serve partner feed files over HTTP for testing. Not for production.

    A minimal static file server that gives .atom files the type application/atom+xml and .rss
    files application/rss+xml. In production, serve the directory with a real web server (TLS,
    caching, access control) at the feeds accounts' public_url.
    """
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class FeedFiles(SimpleHTTPRequestHandler):
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012 - the stdlib's own attribute
                          ".atom": "application/atom+xml; charset=utf-8",
                          ".rss": "application/rss+xml; charset=utf-8"}

    httpd = ThreadingHTTPServer((host, port), functools.partial(FeedFiles, directory=str(directory.resolve())))
    bound_host, bound_port = httpd.server_address[:2]
    click.echo(f"serving {directory.resolve()} at http://{bound_host!s}:{bound_port}/ "
               "(for testing only, not for production; Ctrl-C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


@main.command()
@config_option
@click.argument("item_id")
@click.option("--locale", default=None, help="Only this locale's publications.")
@click.option("--account", default=None, help="Only this account's publications.")
@click.option("--reason", default=None, help="Recorded with each cancelled publication.")
def cancel(config_dir: Path | None, item_id: str, locale: str | None, account: str | None,
           reason: str | None) -> None:
    """Cancel every publication of ITEM_ID that has not gone out yet.

    Scheduled, enqueued, retrying and awaiting-review publications of the newest revision are
    cancelled; published ones stay recorded. Publications being called right now cannot be
    stopped and are listed. Without --locale and --account the item itself is cancelled too.
    Exit 0 when done (also when nothing was left to cancel), 1 when the item is unknown, 2 when
    the item has no publication in --locale or on --account (the ones it has are listed).
    """
    from .intake.producer import cancel as cancel_item

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        if rt.ledger.item(item_id) is None:
            _err(f"item {item_id!r} not found in the ledger")
            sys.exit(EXIT_INCOMPLETE)
        actor = f"cli:{os.environ.get('USER') or 'unknown'}"
        done = cancel_item(item_id, locale=locale, account=account, runtime=rt, reason=reason, actor=actor)
        if locale:
            from .base.locales import canonical

            locale = canonical(locale)  # valid: cancel_item checked it
        scope = " ".join(s for s in (f"locale {locale}" if locale else "", f"account {account}" if account else "")
                         if s) or "all locales and accounts"
        click.echo(f"{item_id} revision {done.revision} ({scope}): cancelled {len(done.cancelled)} publication(s); "
                   f"{len(done.published)} already published stay recorded")
        for p in done.cancelled:
            click.echo(f"  cancelled  {p.locale:<10} {p.account:<20} #{p.slot}  was due "
                       f"{p.scheduled_for:%Y-%m-%d %H:%M} UTC / {_local(p, rt.config)}")
        for p in done.in_flight:
            click.echo(f"  {p.state:<10} {p.locale:<10} {p.account:<20} #{p.slot}  in flight or in doubt: "
                       "may still go out; check with 'syndicate status'")
        if not done.cancelled and not done.in_flight:
            click.echo(f"nothing left to cancel ({scope}): every publication has gone out, failed, or was "
                       "cancelled or skipped before")


@main.command()
@config_option
@click.argument("publication")
@click.option("--published", "permalink", default=None, metavar="URL",
              help="The post is on the platform at URL: record it as published with URL as the permalink.")
@click.option("--remote-id", default=None, help="With --published: the post's id on the platform.")
@click.option("--retry", "retry", is_flag=True, help="The post is not there: publish it again now.")
@click.option("--fail", "fail", is_flag=True, help="Give the publication up (failed).")
@click.option("--reason", default=None, help="Why; recorded in the audit trail.")
@click.option("--by", default=None, help="Who decides (default: the login name); recorded in the audit trail.")
def resolve(config_dir: Path | None, publication: str, permalink: str | None, remote_id: str | None, retry: bool,
            fail: bool, reason: str | None, by: str | None) -> None:
    """Settle an unconfirmed (or in-doubt) PUBLICATION (row id or key) after looking at the platform.

    Exactly one of --published URL, --retry, --fail. Look for the post first (its tagged URL is in
    'syndicate status ITEM --format json'): --retry on a post that exists makes a duplicate.
    Exit 0 when done, 2 when the request is invalid (unknown publication, wrong state, bad URL).
    """
    from .operations.operator import Decision, ResolveError
    from .operations.operator import resolve as do_resolve

    chosen = [name for name, on in (("--published", permalink is not None), ("--retry", retry), ("--fail", fail))
              if on]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --published URL, --retry, --fail"
                               + (f" (got {', '.join(chosen)})" if chosen else ""))
    if remote_id is not None and permalink is None:
        raise click.UsageError("--remote-id goes with --published")
    decision = Decision.PUBLISHED if permalink is not None else Decision.RETRY if retry else Decision.FAILED
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        try:
            pub = do_resolve(publication, decision, runtime=rt, by=_reviewer(by), reason=reason, permalink=permalink,
                             remote_id=remote_id)
        except ResolveError as exc:
            _err(f"error: {exc}")
            sys.exit(EXIT_INVALID)
        status, why = rt.ledger.account_status(pub.account)
        click.echo(f"#{pub.id} {pub.key}: {pub.state}" + (f" at {pub.permalink}" if pub.permalink else ""))
        if decision is Decision.RETRY and status != "ok":
            click.echo(f"note: account {pub.account} is {status} ({why or 'no reason given'}): the retry waits "
                       f"until 'syndicate accounts reset {pub.account}'")


def _moment(value: str | None, now: datetime) -> datetime | None:
    """``--since``/``--until``: an ISO 8601 time with an offset, or a duration back from now (``2h``)."""
    from .base.fields import parse_aware_datetime, parse_duration

    if value is None:
        return None
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        return parse_aware_datetime(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}; or give a duration back from now such as 2h") from None


@main.command()
@config_option
@click.option("--item", "item_id", default=None, help="Only this item's publications (its active revision).")
@click.option("--account", default=None, help="Only this account's publications.")
@click.option("--state", "states", multiple=True, type=click.Choice(["failed", "unconfirmed"]),
              help="Which to replay (repeatable; default failed). An unconfirmed post may exist: check first.")
@click.option("--since", default=None, help="Only rows that reached their state since (ISO time with offset, or 2h).")
@click.option("--until", default=None, help="Only rows that reached their state before this (ISO time, or 30m).")
@click.option("--all", "everything", is_flag=True, help="Replay every matching row without --item/--account/--since.")
@click.option("--include-held", is_flag=True,
              help="Also queue rows of accounts that are not ok; they wait until the account is reset.")
@click.option("--localizations", is_flag=True, help="With --item: also ask again for its failed localizations.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed and what not, and change nothing.")
@click.option("--reason", default=None, help="Why; recorded in the audit trail.")
@click.option("--by", default=None, help="Who replays (default: the login name); recorded in the audit trail.")
def replay(config_dir: Path | None, item_id: str | None, account: str | None, states: tuple[str, ...],
           since: str | None, until: str | None, everything: bool, include_held: bool, localizations: bool,
           dry_run: bool, reason: str | None, by: str | None) -> None:
    """Re-queue failed (or unconfirmed) publications once their cause is fixed.

    Rows are chosen by item, account, state and time range; each is listed with what is done. Rows
    of a superseded or cancelled revision, of an account gone from accounts.yaml, or of an account
    that is not ok (unless --include-held) are skipped with the reason. A running worker or
    scheduler sends the replayed rows on its next tick. Exit 0 when done (also when nothing
    matched, which it says), 2 on invalid options (an item or account the ledger does not know).
    """
    from .operations.operator import ResolveError, describe
    from .operations.operator import replay as do_replay

    if not (item_id or account or since or until or everything):
        raise click.UsageError("choose rows with --item, --account, --since or --until (or replay --all)")
    if localizations and not item_id:
        raise click.UsageError("--localizations needs --item")
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        if account is not None:  # an account gone from accounts.yaml may still have rows to replay
            known = sorted(set(rt.config.accounts) | set(rt.ledger.distinct_values("account")))
            check_choice("account", account, known, where="in accounts.yaml or the ledger")
        check_in_ledger(rt.ledger, "item", "item_id", item_id)
        now = rt.ledger.now()
        try:
            plan = do_replay(runtime=rt, by=_reviewer(by), item=item_id, account=account,
                             states=states or ("failed",), since=_moment(since, now), until=_moment(until, now),
                             include_held=include_held, localizations=localizations, reason=reason, dry_run=dry_run)
        except ResolveError as exc:
            _err(f"error: {exc}")
            sys.exit(EXIT_INVALID)
        for line in describe(plan.rows):
            click.echo(line)
        for item, revision, locale in plan.localizations:
            click.echo(f"{'would ask' if dry_run else 'asked'} again for the localization {item}/{revision}/{locale}")
        if not plan.rows:
            click.echo(nothing_matched(f"{' or '.join(states or ('failed',))} publications",
                                       {"item": item_id, "account": account, "since": since, "until": until}))
        verb = "would replay" if dry_run else "replayed"
        click.echo(f"{verb} {len(plan.replayed)} publication(s); skipped {len(plan.skipped)}"
                   + ("; dry run: nothing changed" if dry_run else ""))


@main.command()
@config_option
@click.option("--lease", "lease", default="10s", show_default=True,
              help="Leader lease (e.g. 10s): a standby takes over within this long after the leader dies.")
@click.option("--interval", "interval", default=None,
              help="Time between ticks (e.g. 1s; default: settings.yaml worker.dispatch_interval, else 1s).")
def scheduler(config_dir: Path | None, lease: str, interval: str | None) -> None:
    """Run the dispatcher alone (no worker threads) until SIGTERM/SIGINT; SIGHUP reloads the config.

    Any number of schedulers and workers may run: they elect one leader through a lease (in Redis,
    or in the ledger when RabbitMQ runs without Redis), and the others stand by. Needs
    SYNDICATE_BROKER_URL or SYNDICATE_REDIS_URL: in embedded mode the worker dispatches.
    """
    import signal

    from .base.fields import parse_duration
    from .publishing.dispatcher import Dispatcher

    configure_logging(level=os.environ.get("SYNDICATE_LOG_LEVEL") or "INFO")
    try:
        lease_td = parse_duration(lease)
        every = parse_duration(interval) if interval else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    with _handled(), Runtime.create(config=load_config(config_dir, check_secrets=False)) as rt:
        if rt.embedded:
            _err("syndicate scheduler needs SYNDICATE_BROKER_URL or SYNDICATE_REDIS_URL; in embedded mode "
                 "'syndicate worker' dispatches")
            sys.exit(EXIT_INVALID)
        if lease_td < 2 * (every or rt.timing.dispatch_interval):
            raise click.BadParameter("the lease must last at least two intervals", param_hint="--lease")
        dispatcher = Dispatcher(rt, lease_length=lease_td)

        def on_signal(signum: int, _frame: Any) -> None:
            dispatcher.stop(timeout=0)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        from .config.reload import ConfigReloader

        ConfigReloader(rt, check_secrets=False).install()  # SIGHUP reloads (it would otherwise end the process)
        dispatcher.run(every)


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--max-connections-per-client", type=click.IntRange(0, 10_000), default=16, show_default=True,
              help="Connections one client address may hold (0: no cap, behind a reverse proxy).")
def api(config_dir: Path | None, host: str, port: int, max_connections_per_client: int) -> None:
    """Serve the HTTP intake API (docs/api.md) until SIGTERM/SIGINT; SIGHUP reloads the config.

    Needs at least one token in settings.yaml (api.tokens). Refuses to start on an invalid
    config (exit 2). The OpenAPI document is at /openapi.json (as a page at /docs); /healthz and
    /readyz for probes.
    """
    from .api.app import create_app, serve
    from .api.serving import ClientLimits

    level = os.environ.get("SYNDICATE_LOG_LEVEL") or "INFO"
    configure_logging(level=level)
    with _handled(), Runtime.create(config=load_config(config_dir, check_secrets=False)) as rt:
        create_app(rt)  # check the tokens before binding the port
        serve(rt, host=host, port=port, log_level=level, limits=ClientLimits(max_per_client=max_connections_per_client))


@main.command()
@config_option
@click.option("--url", default=None, help="Probe a running process instead: its /readyz (or /healthz) URL.")
@click.option("--skip-secrets", is_flag=True, help="Do not require every ${VAR} reference to be set.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def health(config_dir: Path | None, url: str | None, skip_secrets: bool, fmt: str) -> None:
    """Check readiness, for scripts and container health checks: exit 0 ready, 1 not ready.

    Without --url: the broker (SYNDICATE_BROKER_URL, else SYNDICATE_REDIS_URL: Redis answers PING,
    RabbitMQ accepts a connection) answers, the ledger (SYNDICATE_DATABASE_URL) answers with our
    schema, and the config directory is valid. With --url: GET it; 200 is ready.
    """
    from .ledger import Ledger
    from .operations.health import Readiness, broker_check, config_check, ledger_check, probe, report_json

    if url is not None:
        ok, body = probe(url)
        click.echo(body.strip() if fmt == "json" else f"{'ready' if ok else 'NOT READY'}: {url}")
        if not ok and fmt == "text":
            _err(body.strip()[:2000])
        sys.exit(EXIT_OK if ok else EXIT_INCOMPLETE)
    from .base.brokerurl import resolve_broker_urls

    with _handled():
        urls = resolve_broker_urls(None, None, os.environ)
    with Ledger() as ledger:
        results = Readiness([broker_check(urls.broker), ledger_check(ledger),
                             config_check(functools.partial(load_config, config_dir,
                                                            check_secrets=not skip_secrets))]).run()
    if fmt == "json":
        click.echo(report_json(results))
    else:
        for r in results:
            click.echo(f"{r.name:<8} {'ok' if r.ok else 'FAILED'}  {r.detail}")
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_INCOMPLETE)


@main.command()
@config_option
def engagement(config_dir: Path | None) -> None:
    """Snapshot the engagement counts of recent publications now (workers do it every
    settings.yaml engagement.interval); `syndicate report` shows the newest snapshot."""
    from .operations.engagement import collect_engagement

    with _handled(), _runtime(config_dir) as rt:
        done = collect_engagement(rt)
        click.echo(f"stored {done.stored} snapshot(s); {done.skipped} skipped, {done.errors} error(s)")
        sys.exit(EXIT_OK if not done.errors else EXIT_INCOMPLETE)


@main.command("calendar")
@config_option
@click.option("--from", "first", default=None, metavar="DATE",
              help="First local day: YYYY-MM-DD, 'today' or +N/-N days from today (default: today).")
@click.option("--to", "last", default=None, metavar="DATE",
              help="Last local day, included: YYYY-MM-DD, 'today' or +N/-N days (default: 14 days after --from).")
@click.option("--region", default=None, help="Only this route's publications (its region, such as dach).")
@click.option("--account", default=None, help="Only this account's publications.")
@click.option("--format", "fmt", type=click.Choice(["table", "ics", "html", "json"]), default="table",
              show_default=True,
              help="table: grouped by local day; ics: an iCalendar feed for calendar apps; html: a self-contained "
                   "page with a week grid; json: for scripts.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.option("--uid-domain", default=None, metavar="DOMAIN",
              help="ics: the domain after '@' in each event's UID (default: syndicate.invalid).")
def calendar_command(config_dir: Path | None, first: str | None, last: str | None, region: str | None,
                     account: str | None, fmt: str, output: Path | None, uid_domain: str | None) -> None:
    """Show every planned, published and held publication by local day and time.

    Each publication is placed in its route's time zone: at the time it went out once published,
    else at its planned time. Days are local days of each route, both --from and --to included;
    'today' is today in the --region's time zone, or without --region where it is earliest among
    the routes (so what went out a moment ago is always in). The states shown
    are the ledger's, plus 'held' (its account needs new credentials or is disabled: see
    'syndicate accounts list') and 'superseded' (cancelled by a newer revision of its item).

    The ics feed has one event per publication with a stable UID, so importing it again updates
    the events: CONFIRMED once published (with the post's URL), CANCELLED when it will not go out,
    TENTATIVE otherwise. Exit 0 (also when nothing falls in the range), 2 for a bad date or an
    unknown region or account.
    """
    import re

    from .operations.calendar import calendar_entries, calendar_json, calendar_range, calendar_table
    from .operations.ical import DEFAULT_UID_DOMAIN, ical_feed
    from .operations.weekview import calendar_page

    if uid_domain is not None and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", uid_domain):
        raise click.BadParameter(f"{uid_domain!r} is not a domain name (letters, digits, '.' and '-')",
                                 param_hint="--uid-domain")
    with _handled(), _runtime(config_dir, embedded=True) as rt:
        zones = {r.region: r.timezone for r in rt.config.routes.values()}
        if region is not None:
            check_choice("region", region, sorted(set(zones) | set(rt.ledger.distinct_values("region"))))
        if account is not None:
            known = set(rt.config.accounts) | set(rt.ledger.distinct_values("account"))
            check_choice("account", account, sorted(known))
        # Today where it is earliest among the routes shown, so that what went out a moment ago is in.
        now = rt.ledger.now()
        today = min(now.astimezone(ZoneInfo(z)).date() for z in ([zones[region]] if region in zones else
                                                                  [*zones.values(), "UTC"]))
        span = calendar_range(first, last, today)
        entries = calendar_entries(rt.ledger, span, zones=zones, regions=[region] if region else None,
                                   accounts=[account] if account else None)
        scope = " · ".join(x for x in (region, account) if x)
        if fmt == "ics":
            name = "syndicate publications" + (f": {scope}" if scope else "")
            text = ical_feed(entries, name=name, domain=uid_domain or DEFAULT_UID_DOMAIN)
        elif fmt == "html":
            text = calendar_page(entries, span, title=scope or None)
        elif fmt == "json":
            text = calendar_json(entries, span)
        else:
            text = calendar_table(entries, span)
        if output:
            output.write_bytes(text.encode("utf-8"))  # bytes: the feed's CRLF line ends stay as they are
            click.echo(f"wrote {output} ({len(entries)} publication(s))", err=True)
        else:
            click.echo(text, nl=False)


@main.command()
@config_option
@click.argument("item_id")
@click.option("--locale", default=None, help="Only this locale's posts.")
@click.option("--account", default=None, help="Only this account's posts.")
def unpublish(config_dir: Path | None, item_id: str, locale: str | None, account: str | None) -> None:
    """Delete ITEM_ID's posts that went out, and cancel what has not gone out yet.

    Each live post is deleted once (WordPress: to the trash; feeds: entry removed; LinkedIn and X:
    deleted; webhooks: a deleted message), recorded in the ledger; a delete that times out is
    settled by asking the platform whether the post still exists. Run again, it makes no call and
    says so. With a Redis broker the workers carry the deletes out; embedded, this command does.
    Exit 0 when every delete is done or under way, 1 when the item is unknown or a delete failed
    or needs an operator, 2 when the item has no publication in --locale or on --account.
    """
    from .intake.unpublish import unpublish as unpublish_item
    from .model.states import OperationState
    from .publishing.unpublish import do_unpublish

    with _handled(), _runtime(config_dir, embedded=True) as rt:
        if rt.ledger.item(item_id) is None:
            _err(f"item {item_id!r} not found in the ledger")
            sys.exit(EXIT_INCOMPLETE)
        actor = f"cli:{os.environ.get('USER') or 'unknown'}"
        done = unpublish_item(item_id, locale=locale, account=account, runtime=rt, actor=actor)
        ops = list(done.deleting)
        if rt.embedded:
            for op in ops:  # no worker in this process: carry the delete out here (and settle a doubt)
                for _ in range(2):
                    if do_unpublish(rt, op.id) not in ("in_doubt",):
                        break
            ops = [rt.ledger.operation(op.id) or op for op in ops]
        for op in ops:
            note = {"done": "deleted", "pending": "asked the workers", "retrying": "will retry",
                    "in_doubt": "in doubt: the platform will be asked"}.get(op.state, op.state)
            click.echo(f"  {note:<18} {op.locale:<10} {op.account:<20} {op.remote_id}"
                       + (f"  ({op.last_error})" if op.last_error and op.state != "done" else ""))
        for op in done.in_progress:
            click.echo(f"  {'under way':<18} {op.locale:<10} {op.account:<20} {op.remote_id}  (asked before: "
                       f"{op.state}; no new call)")
        for p in done.unsupported:
            click.echo(f"  {'cannot delete':<18} {p.locale:<10} {p.account:<20} remove by hand: {p.permalink}")
        for p in done.cancellation.in_flight:
            click.echo(f"  {p.state:<18} {p.locale:<10} {p.account:<20} being sent or in doubt: it may still go "
                       "out; run unpublish again once it settles")
        cancelled = len(done.cancellation.cancelled)
        click.echo(f"{item_id}: {len(ops)} delete(s) asked now, {len(done.in_progress)} under way, "
                   f"{len(done.already_unpublished)} publication(s) already unpublished, {cancelled} cancelled "
                   "before going out")
        if done.nothing_to_do and not done.in_progress:
            click.echo("nothing to do: already unpublished (no call made)")
        bad = [op for op in ops if op.state in (OperationState.FAILED, OperationState.UNCONFIRMED)]
        sys.exit(EXIT_INCOMPLETE if bad or done.unsupported else EXIT_OK)


@main.group()
def links() -> None:
    """First-party short links: the public redirect app that counts clicks (docs/short-links.md)."""


@links.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True, help="Port to listen on.")
@click.option("--prefix", default="/", show_default=True,
              help="The path the codes follow: the path of short_links.base_url as the proxy forwards it (e.g. /r/).")
@click.option("--refresh", "refresh_s", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
              help="Seconds between reads of new and changed links from the ledger.")
@click.option("--flush", "flush_s", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help="Seconds between writes of the counted clicks to the ledger.")
@click.option("--max-connections-per-client", type=click.IntRange(0, 10_000), default=16, show_default=True,
              help="Connections one client address may hold; 0 behind a reverse proxy (every client is the proxy).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Also serve /healthz, /readyz and Prometheus /metrics on this port (not public).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address for --metrics-port (0.0.0.0 in a container, for probes and Prometheus).")
def links_serve(host: str, port: int, prefix: str, refresh_s: float, flush_s: float, max_connections_per_client: int,
                metrics_port: int | None, metrics_host: str) -> None:
    """Serve short links until SIGTERM/SIGINT: GET PREFIX<code> answers 302 to the post's tagged URL.

    Public and token-free: put it behind the organisation's domain (TLS at the proxy). Reads the
    ledger ($SYNDICATE_DATABASE_URL) every --refresh seconds and keeps every code in memory;
    clicks are counted per publication and hour, humans and bots apart, no address stored, and
    written every --flush seconds. A ledger that stops answering does not stop the redirects:
    links already loaded keep working, and the counts wait in memory until it answers again.
    PREFIX-/healthz answers 200 once the links are loaded.
    """
    from .api.links import LinkSettings, serve_links
    from .api.serving import ClientLimits
    from .ledger import Ledger
    from .operations.health import OpsServer, Readiness, ledger_check
    from .operations.metrics import LedgerCollector, serving_registry

    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise click.BadParameter(f"must start and end with '/': {prefix!r}", param_hint="--prefix")
    level = os.environ.get("SYNDICATE_LOG_LEVEL") or "INFO"
    configure_logging(level=level)
    settings = LinkSettings(prefix=prefix, refresh=timedelta(seconds=refresh_s), flush=timedelta(seconds=flush_s))
    with _handled(), Ledger() as ledger:
        ops = None
        if metrics_port is not None:
            ops = OpsServer(metrics_host, metrics_port, Readiness([ledger_check(ledger)]),
                            serving_registry(LedgerCollector(ledger))).start()
        try:
            serve_links(ledger, host=host, port=port, settings=settings, log_level=level,
                        limits=ClientLimits(max_per_client=max_connections_per_client))
        finally:
            if ops is not None:
                ops.stop()
