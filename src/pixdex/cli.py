"""The ``pixdex`` command line: a thin typer layer over ``pixdex.Catalog``.

Exit status: 0 on success; 1 when ``index`` found files but could hash none of them; 2 for a user
error (missing catalog, unknown algorithm, unreadable query, hash of the wrong length, bad usage),
reported as one line on stderr without a traceback; 130 when interrupted.

Start-up: this module imports only typer and the defaults its options show; each command imports
what it uses (the catalog, the evaluation, the server, rich's progress bars) when it runs, so
``pixdex --help`` and ``pixdex version`` answer in about a tenth of a second, and no command loads
numba, scipy, the server or matplotlib unless it needs them (tests/test_cli_startup.py).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from pixdex.catalog.defaults import (
    BATCH_SIZE,
    DEFAULT_ALGORITHM,
    DEFAULT_INDEX_ALGORITHMS,
    DEFAULT_PATH,
    FILE_TIME_LIMIT_S,
)
from pixdex.catalog.errors import CatalogError
from pixdex.errors import PixdexError
from pixdex.evaluation.defaults import (
    DEFAULT_EVAL_EDITS,
    DEFAULT_MODES,
    DEFAULT_SAMPLE,
    DEFAULT_TARGET,
)
from pixdex.names import ESCAPE_ERRORS, printable_json
from pixdex.wording import byte_size, count

if TYPE_CHECKING:
    from typer._click import Context, HelpFormatter  # typer 0.29 bundles its own click

    from pixdex.catalog import Catalog, IndexReport, SearchResult
    from pixdex.catalog.engine import Engine
    from pixdex.hashing import Hash

# One BLAS thread, unless the user chose: numpy starts OpenBLAS's thread pool when it is imported,
# 50 ms of a command's start (100 ms on a busy machine), for the few small matrix products of
# pHash and PDQ, which run in one hashing process per core anyway. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: a flag reads as a flag (`--json`, not `--json <bool>` as typer's rich
    # panels print it), and rich is not imported to print it.
    rich_markup_mode=None,
    help="Near-duplicate image search: index folders of images, then search them by image or hash.",
)


class _Command(TyperCommand):
    """A command whose help writes its arguments as command lines do: ``FOLDERS...`` in the usage
    line and the list of arguments, where typer 0.29 writes ``{folders}...`` and
    ``folders... <list[Path]>``; an optional argument is in brackets in the usage line, as click
    has it (``[QUERIES]...``)."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_argument_name(param, in_usage=True))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if isinstance(param, TyperArgument):
                arguments.append((_argument_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument_name(argument: TyperArgument, *, in_usage: bool = False) -> str:
    """An argument as help writes it: its metavar (else its name in capitals), in brackets in the
    usage line when it is optional, followed by ``...`` when it takes several values."""
    name = argument.metavar or str(argument.name).upper()
    if in_usage and not argument.required:
        name = f"[{name}]"
    return f"{name}..." if argument.nargs != 1 else name


@app.callback()
def _printable_output() -> None:
    # A file name that is not valid UTF-8 is printed with its undecodable bytes as \xNN
    # (pixdex.names) wherever it appears, error messages included, instead of raising.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=ESCAPE_ERRORS)


DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="PIXDEX_DB",
        metavar="DB",
        help="The catalog: an SQLite file, or a PostgreSQL database as "
        "postgresql://USER@HOST:PORT/DBNAME (password from PGPASSWORD or ~/.pgpass).",
        show_default=True,
    ),
]


def _dask_option(work: str) -> Any:
    """``--dask ADDRESS`` (or $PIXDEX_DASK), whose help says the ``work`` this command gives the
    cluster, not what every command does with it."""
    return typer.Option(
        "--dask",
        envvar="PIXDEX_DASK",
        metavar="ADDRESS",
        help="Run on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786; needs the "
        f"distributed extra): {work}.",
        show_default=False,
    )


AlgorithmOption = Annotated[
    str | None,
    typer.Option(
        "--algorithm",
        "-a",
        metavar="NAME",
        help="Hash algorithm (default: dhash, or the catalog's only one).",
        show_default=False,
    ),
]


@contextmanager
def _engine(address: str | None) -> Iterator[Engine | None]:
    """The Dask engine of ``--dask ADDRESS`` for the command's catalog (Dask is imported only
    then), or None: run here."""
    if address is None:
        yield None
        return
    with _distributed("engine").connect(address) as engine:
        yield engine


def _distributed(module: str) -> ModuleType:
    """``pixdex.distributed.<module>``, imported only for ``--dask``; one line when Dask is not
    installed."""
    try:
        return importlib.import_module(f"pixdex.distributed.{module}")
    except ImportError:
        raise CatalogError(
            "--dask needs Dask distributed: pip install 'pixdex[distributed]'"
        ) from None


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn pixdex's own errors into one line on stderr and exit status 2."""
    try:
        yield
    except PixdexError as error:
        typer.echo(f"pixdex: {error}", err=True)
        raise typer.Exit(2) from None


@app.command(cls=_Command)
def index(
    folders: Annotated[
        list[Path],
        typer.Argument(
            metavar="FOLDERS",
            help="Folders (searched recursively) or image files to index.",
        ),
    ],
    db: DbOption = DEFAULT_PATH,
    algorithm: Annotated[
        str,
        typer.Option(
            "--algorithm", "-a", metavar="NAMES", help="Hash algorithms, comma-separated."
        ),
    ] = ",".join(DEFAULT_INDEX_ALGORITHMS),
    workers: Annotated[
        int | None,
        typer.Option(metavar="N", min=1, help="Hashing processes (default: one per core)."),
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Drop catalog entries whose files are gone.")
    ] = False,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            metavar="N",
            min=1,
            help="Files per commit: the most an interrupted run loses.",
        ),
    ] = BATCH_SIZE,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            min=0.1,
            help="Time one file may take to decode and hash; a file over it is stopped and "
            "reported as failed (so is one that crashes its decoder).",
        ),
    ] = FILE_TIME_LIMIT_S,
    dask: Annotated[
        str | None, _dask_option("its workers read and hash the files, at the same paths")
    ] = None,
) -> None:
    """Hash the images under FOLDERS into the catalog. Unchanged files are not read again."""
    from pixdex.catalog import Catalog
    from pixdex.progress import ProgressBar

    with _user_errors():
        for folder in folders:
            if not folder.exists():
                raise CatalogError(f"{folder}: no such file or folder")
        if dask is not None and workers is not None:
            raise CatalogError("--workers is for hashing here; with --dask the cluster hashes")
    with _user_errors(), Catalog(db) as catalog, ProgressBar("hashing", rate=True) as bar:
        options = {
            "algorithms": algorithm.split(","),
            "prune": prune,
            "progress": bar,
            "batch_size": batch_size,
            "time_limit": time_limit,
        }
        paths = [str(f) for f in folders]
        try:
            if dask is None:
                report = catalog.index(paths, workers=workers, **options)
            else:
                report = _distributed("hashing").index_on_cluster(catalog, paths, dask, **options)
        except KeyboardInterrupt:
            bar.stop()
            typer.echo("interrupted: committed batches are kept; run again to resume", err=True)
            raise typer.Exit(130) from None
    _print_index_report(report, catalog.name)
    if report.hashed and not report.new and not report.changed:
        raise typer.Exit(1)


def _print_index_report(report: IndexReport, db: str) -> None:
    total = report.new + report.changed + report.unchanged + len(report.failed)
    rate = report.hashed / report.seconds if report.seconds > 0 else 0.0
    speed = f" ({rate:,.1f} files/s hashed)" if report.hashed else ""
    typer.echo(
        f"{count(total, 'file')} in {report.seconds:.2f} s{speed}: "
        f"{report.new:,} new, {report.changed:,} changed, {report.unchanged:,} unchanged, "
        f"{len(report.failed):,} failed, {report.pruned:,} pruned → {db}"
    )
    for path, reason in report.failed:
        typer.echo(f"  failed: {path}: {reason}")
    for path, reason in report.unlisted:
        typer.echo(f"  unreadable: {path}: {reason}")


@app.command(cls=_Command)
def search(
    queries: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="QUERIES", help="Query images, or folders of them.", show_default=False
        ),
    ] = None,
    hashes: Annotated[
        list[str] | None,
        typer.Option(
            "--hash",
            metavar="HEX",
            help="A query hash in hex (repeatable).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = DEFAULT_PATH,
    distance: Annotated[
        int | None,
        typer.Option(
            "--distance",
            "-d",
            metavar="BITS",
            min=0,
            help="Largest Hamming distance, in bits (default: 10 for 64-bit hashes, 12 for "
            "pHash, 31 for 256-bit).",
            show_default=False,
        ),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("-k", metavar="K", min=1, help="Keep only the K nearest matches."),
    ] = None,
    algorithm: AlgorithmOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per query per line.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", metavar="FILE", help="Write an HTML page of the results with thumbnails."
        ),
    ] = None,
    include_low_quality: Annotated[
        bool,
        typer.Option(
            "--include-low-quality",
            help="With --no-verify: also match degenerate hashes (near-blank images). The rule "
            "matches them, verified, anyway.",
        ),
    ] = False,
    flips: Annotated[
        bool,
        typer.Option(
            "--flips", help="Also find mirrored and rotated copies (searches 8 orientations)."
        ),
    ] = False,
    confirm: Annotated[
        str | None,
        typer.Option(
            "--confirm",
            metavar="NAME",
            help="Keep only matches whose hash of this second algorithm (e.g. pdq, phash) is "
            "close too; the catalog must hold it.",
            show_default=False,
        ),
    ] = None,
    confirm_distance: Annotated[
        int | None,
        typer.Option(
            "--confirm-distance",
            metavar="BITS",
            min=0,
            help="Largest distance of the confirming hash, in bits (default: its usual one).",
            show_default=False,
        ),
    ] = None,
    verified: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Verify hash candidates with the matching rule, or (--no-verify) match by "
            "hash distance alone.",
        ),
    ] = True,
    dask: Annotated[
        str | None, _dask_option("the index is kept sharded in its workers' memory")
    ] = None,
) -> None:
    """Find catalogued images showing the same picture as each query. Each query's matches
    are listed nearest first."""
    from pixdex.catalog import Catalog
    from pixdex.matching import DEFAULT_RULE

    if not queries and not hashes:
        raise typer.BadParameter("give a query image or folder, or --hash HEX")
    with (
        _user_errors(),
        _engine(dask) as engine,
        Catalog(db, create=False, engine=engine) as catalog,
    ):
        if verified and include_low_quality:
            raise CatalogError(
                "--include-low-quality applies to --no-verify (hash distance alone): the "
                "matching rule takes near-blank pictures as candidates and verifies them"
            )
        name = algorithm or _default_algorithm(catalog)
        results = []
        for query in _expand_queries(queries or [], hashes or [], name):
            result = catalog.search(
                query,
                algorithm=name,
                max_distance=distance,
                k=k,
                include_low_quality=include_low_quality,
                flips=flips,
                confirm=confirm,
                confirm_distance=confirm_distance,
                rule=DEFAULT_RULE if verified else None,
            )
            results.append(result)
            if as_json:
                typer.echo(printable_json(result.to_dict()))
            else:
                _print_result(result)
        if report is not None:
            from pixdex.report import write_report

            try:
                write_report(results, report)
            except OSError as error:
                raise CatalogError(
                    f"{report}: cannot write the report ({error.strerror})"
                ) from None
            if not as_json:
                typer.echo(f"report: {report}")


def _default_algorithm(catalog: Catalog) -> str:
    names = catalog.algorithms()
    return next(iter(names)) if len(names) == 1 else DEFAULT_ALGORITHM


def _expand_queries(queries: list[Path], hashes: list[str], algorithm: str) -> Iterator[str | Hash]:
    from pixdex.catalog import walk_images
    from pixdex.hashing import Hash

    for text in hashes:
        try:
            yield Hash.from_hex(text, algorithm)
        except ValueError:
            raise CatalogError(f"--hash {text}: not a hex hash") from None
    for query in queries:
        if query.is_dir():
            yield from (found.path for found in walk_images([str(query)]))
        elif query.exists():
            yield str(query)
        else:
            raise CatalogError(f"{query}: no such file or folder")


def _print_result(result: SearchResult) -> None:
    typer.echo(
        f"{result.query}  {result.algorithm} {result.hash.hex}  "
        f"{count(len(result.matches), 'match', 'matches')} in {result.took_ms:.2f} ms"
    )
    for match in result.matches:
        typer.echo(f"  {match.distance:>4}  {match.hash.hex}  {match.path}")


@app.command(cls=_Command)
def info(db: DbOption = DEFAULT_PATH) -> None:
    """Show the catalog's images, hashes, failures and size on disk. Hashes are counted per
    algorithm, with how many of them are of low quality; the files that failed are listed."""
    from pixdex.catalog import Catalog

    with _user_errors(), Catalog(db, create=False) as catalog:
        details = catalog.info()
    stats = details.stats
    typer.echo(f"catalog:  {details.path}")
    typer.echo(f"images:   {details.images:,}")
    for entry in stats.algorithms:
        typer.echo(
            f"hashes:   {entry.algorithm} ({entry.bits} bits): {entry.count:,}"
            f" ({entry.low_quality:,} low quality)"
        )
    typer.echo(f"failures: {stats.failures:,}")
    for path, reason in details.failures:
        typer.echo(f"  {path}: {reason}")
    typer.echo(f"on disk:  {byte_size(details.bytes_on_disk)}")


@app.command(name="eval", cls=_Command)
def evaluate(
    folder: Annotated[
        Path,
        typer.Argument(metavar="FOLDER", help="A folder of images to sample originals from."),
    ],
    algorithms: Annotated[
        str,
        typer.Option(
            "--algorithms",
            "--modes",
            "-a",
            metavar="MODES",
            show_default=False,
            help="Search modes, comma-separated: rule and rule+flips (the matching rule as "
            "pixdex search uses it, verified), ALG (dhash, ahash, phash, whash, pdq, or a "
            "view such as pdq:trim), "
            "ALG+flips (also the query's mirrored and rotated orientations), ALG+lowq (also "
            "near-blank images' hashes), ALG+ALG or ALG+ALG:BITS (candidates confirmed by a "
            "second hash, within its usual or the given distance). "
            f"Default: {', '.join(DEFAULT_MODES)}.",
        ),
    ] = ",".join(DEFAULT_MODES),
    edits: Annotated[
        str,
        typer.Option(
            "--edits",
            "-e",
            metavar="EDITS",
            show_default=False,
            help="Edits to make of every original, comma-separated. "
            f"Default: {', '.join(DEFAULT_EVAL_EDITS)}.",
        ),
    ] = ",".join(DEFAULT_EVAL_EDITS),
    sample: Annotated[
        int,
        typer.Option("--sample", "-n", metavar="N", min=2, help="Originals drawn from FOLDER."),
    ] = DEFAULT_SAMPLE,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Seed of the sample and the edits.")
    ] = 0,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Folder for eval.csv, eval.json and the plots."
        ),
    ] = Path("eval"),
    target: Annotated[
        float,
        typer.Option(
            "--target-false-match",
            metavar="RATE",
            min=0.0,
            max=1.0,
            help="False-match rate per pair of different pictures the recommended distance "
            "stays within.",
        ),
    ] = DEFAULT_TARGET,
    max_side: Annotated[
        int,
        typer.Option(
            "--max-side",
            metavar="PIXELS",
            min=16,
            help="Shrink originals to at most PIXELS a side as they are decoded.",
        ),
    ] = 1024,
    groups: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            metavar="FILE",
            help="A JSON object mapping image paths to picture labels: files with one label "
            "show the same picture and are not counted as false matches.",
        ),
    ] = None,
) -> None:
    """Measure how well each search mode finds edited copies of images. The originals are drawn
    from FOLDER; each mode's recall and false matches are measured and a distance recommended."""
    from rich.console import Console

    from pixdex.evaluation.command import eval_command, print_tables
    from pixdex.progress import ProgressBar

    labels = _read_groups(groups) if groups is not None else None
    try:
        with ProgressBar("evaluating", noun="originals", transient=True) as bar:
            result = eval_command(
                folder,
                modes=[m for m in algorithms.split(",") if m.strip()],
                edits=[e.strip() for e in edits.split(",") if e.strip()],
                sample=sample,
                seed=seed,
                out=out,
                target=target,
                max_side=max_side,
                groups=labels,
                progress=bar,
            )
    except ValueError as error:
        typer.echo(f"pixdex: {error}", err=True)
        raise typer.Exit(2) from None
    print_tables(result, Console())
    typer.echo(f"→ {out / 'eval.csv'}, {out / 'eval.json'}, plots in {out}")


def _read_groups(path: Path) -> dict[str, str]:
    """``--groups``: paths (relative ones from the file's folder) to picture labels."""
    try:
        mapping = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        typer.echo(f"pixdex: {path}: cannot read the groups file ({error})", err=True)
        raise typer.Exit(2) from None
    if not isinstance(mapping, dict):
        typer.echo(f"pixdex: {path}: the groups file must be a JSON object", err=True)
        raise typer.Exit(2)
    base = path.resolve().parent
    return {str((base / key).resolve()): str(value) for key, value in mapping.items()}


@app.command(cls=_Command)
def dupes(
    db: DbOption = DEFAULT_PATH,
    distance: Annotated[
        int | None,
        typer.Option(
            "--distance",
            "-d",
            metavar="BITS",
            min=0,
            help="Largest Hamming distance, in bits, between near-duplicates (default: 10 for "
            "64-bit hashes, 12 for pHash, 31 for 256-bit).",
            show_default=False,
        ),
    ] = None,
    algorithm: AlgorithmOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per group per line.")
    ] = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Write the groups to FILE as CSV."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", metavar="FILE", help="Write an HTML page of the groups with thumbnails."
        ),
    ] = None,
    keep: Annotated[
        str,
        typer.Option(
            "--keep",
            metavar="WHICH",
            help="Which file of a group to keep: largest, newest, oldest or shortest-path.",
        ),
    ] = "largest",
    move_to: Annotated[
        Path | None,
        typer.Option(
            "--move-to",
            metavar="DIR",
            help="Move every other file into DIR, keeping relative paths (undoable).",
        ),
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete every other file (needs --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --delete.")] = False,
    verified: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Verify every member against its group's keeper with the matching rule, or "
            "(--no-verify) group by hash distance alone.",
        ),
    ] = True,
    include_low_quality: Annotated[
        bool,
        typer.Option(
            "--include-low-quality",
            help="With --no-verify: also group degenerate hashes (near-blank images). The rule "
            "verifies them like any other.",
        ),
    ] = False,
    no_chain: Annotated[
        bool,
        typer.Option(
            "--no-chain",
            help="With --no-verify: group around representatives (every member within the "
            "distance of one file), so A~B~C chains do not merge far-apart files. The rule "
            "never chains.",
        ),
    ] = False,
    flips: Annotated[
        bool,
        typer.Option(
            "--flips",
            help="Also group mirrored and rotated copies (decodes every file again).",
        ),
    ] = False,
    dask: Annotated[str | None, _dask_option("the self-join is spread over its workers")] = None,
) -> None:
    """List groups of duplicate images in the catalog. Duplicates have identical bytes, or hashes
    within --distance; with --move-to or --delete --yes, every file of a group but its keeper
    is moved or deleted."""
    from pixdex.catalog import Catalog
    from pixdex.matching import DEFAULT_RULE

    with (
        _user_errors(),
        _engine(dask) as engine,
        Catalog(db, create=False, engine=engine) as catalog,
    ):
        if sum((as_json, csv_file is not None, report is not None)) > 1:
            raise CatalogError("choose one output: --json, --csv FILE or --report FILE")
        if move_to is not None and delete:
            raise CatalogError("choose one action: --move-to DIR or --delete")
        if delete and not yes:
            raise CatalogError("--delete removes files for good: add --yes to confirm")
        if verified and (no_chain or include_low_quality):
            raise CatalogError(
                "--no-chain and --include-low-quality apply to --no-verify (hash distance "
                "alone): the matching rule never chains, and verifies near-blank pictures too"
            )
        groups = catalog.duplicates(
            max_distance=distance,
            algorithm=algorithm or _default_algorithm(catalog),
            keep=keep,
            chain=not no_chain,
            include_low_quality=include_low_quality,
            flips=flips,
            rule=DEFAULT_RULE if verified else None,
        )
        _write_groups(groups, as_json, csv_file, report)
        if move_to is not None or delete:
            done = catalog.remove_duplicates(groups, move_to=move_to, delete=delete)
            _print_actions(done, to_stderr=as_json)


def _write_groups(groups, as_json: bool, csv_file: Path | None, report: Path | None) -> None:
    from pixdex.duplicates_report import write_csv, write_duplicates_report

    if as_json:
        for group in groups:
            typer.echo(printable_json(group.to_dict()))
        return
    for path, write in ((csv_file, write_csv), (report, write_duplicates_report)):
        if path is not None:
            try:
                write(groups, path)
            except OSError as error:
                raise CatalogError(f"{path}: cannot write it ({error.strerror})") from None
            typer.echo(f"{count(len(groups), 'group')} → {path}")
            return
    for number, group in enumerate(groups, 1):
        suspicious = " (implausibly large: not acted on)" if group.implausible else ""
        typer.echo(f"group {number}: {count(len(group.members), 'file')}{suspicious}")
        for member in group.members:
            role = "keep" if member is group.keeper else ("same" if member.exact else "")
            pixels = f"{member.width}×{member.height}"
            typer.echo(
                f"  {role:4} {member.distance:>3}  {pixels:>11} {member.format or '?':5}"
                f" {byte_size(member.size):>10}  {member.path}"
            )
    files = sum(len(g.members) for g in groups)
    typer.echo(f"{count(len(groups), 'group')}, {count(files, 'file')}")


def _print_actions(done, *, to_stderr: bool) -> None:
    for source, target in done.moved:
        typer.echo(f"moved: {source} → {target}", err=to_stderr)
    for path in done.deleted:
        typer.echo(f"deleted: {path}", err=to_stderr)
    for path, reason in done.skipped:
        typer.echo(f"skipped: {path}: {reason}", err=to_stderr)
    them = "it" if len(done.moved) == 1 else "them"
    undo = f"; `pixdex undo` moves {them} back" if done.moved else ""
    typer.echo(
        f"{len(done.moved):,} moved, {len(done.deleted):,} deleted, {len(done.skipped):,} skipped "
        f"(run {done.run}{undo})",
        err=to_stderr,
    )


@app.command(cls=_Command)
def undo(db: DbOption = DEFAULT_PATH) -> None:
    """Move back the files moved by the last pixdex dupes --move-to."""
    from pixdex.catalog import Catalog

    with _user_errors(), Catalog(db, create=False) as catalog:
        done = catalog.undo()
    if done.run is None:
        typer.echo("nothing to undo")
        return
    for source, target in done.restored:
        typer.echo(f"restored: {source} → {target}")
    for path, reason in done.failed:
        typer.echo(f"failed: {path}: {reason}")
    for path in done.not_undoable:
        typer.echo(f"deleted, cannot restore: {path}")
    typer.echo(f"run {done.run}: {len(done.restored):,} restored, {len(done.failed):,} failed")
    if done.failed:
        raise typer.Exit(1)


@app.command(cls=_Command)
def serve(
    db: DbOption = DEFAULT_PATH,
    host: Annotated[
        str,
        typer.Option(
            metavar="HOST",
            help="Interface to listen on; 0.0.0.0 exposes the catalog to the network.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", min=0, max=65535, help="TCP port to listen on.")
    ] = 8000,
    dask: Annotated[
        str | None, _dask_option("the index is kept sharded in its workers' memory")
    ] = None,
) -> None:
    """Serve a web search page and an HTTP API over the catalog. The API's documentation is at
    /docs."""
    from pixdex.server.serve import serve as run_server

    with _user_errors(), _engine(dask) as engine:
        run_server(db, host, port, engine=engine)


@app.command(cls=_Command)
def version() -> None:
    """Print the pixdex version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("pixdex"))


if __name__ == "__main__":
    app()
