"""`agent-factory check` and `agent-factory compile`: the compiler's diagnostics and backends.

Both take files and folders (searched recursively for `*.md`) and use only the compiler's
public functions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .configs import note_unused_configs
from .exit import Exit
from .report import Reporter

FORMATS = click.Choice(["text", "json", "sarif"])


def _without_pydantic_plugins() -> None:
    """Skip pydantic's plugin search (unless the user set `PYDANTIC_DISABLE_PLUGINS`).

    Pydantic plugins observe validation (logging, tracing); check and compile validate only
    the compiler's own models, and the search reads every installed package's metadata on the
    first model built, a good part of a check's start. Call before importing the compiler."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _expand(paths: tuple[str, ...]) -> list[Path]:
    from agent_factory.compiler import spec_files

    files, missing = spec_files(list(paths))
    for path in missing:
        click.echo(f"error: no such file or folder: {path}", err=True)
    not_markdown = [p for p in paths if Path(p).is_file() and Path(p).suffix.lower() != ".md"]
    for path in not_markdown:
        click.echo(f"error: {path} is not a Markdown spec (.md)", err=True)
    if missing or not_markdown:
        sys.exit(Exit.USAGE)
    if not files:
        click.echo(f"error: no spec files (*.md) found in {', '.join(paths)}", err=True)
        sys.exit(Exit.USAGE)
    return files


def _report(results, fmt: str) -> None:
    reporter = Reporter(fmt)
    for result in results:
        reporter.add(result)
    reporter.finish()


def _progress(files: list[Path]):
    """Yield files, showing a progress bar on a terminal when there are many."""
    if len(files) < 50 or not sys.stderr.isatty():
        yield from files
        return
    with click.progressbar(files, label="checking", file=sys.stderr) as bar:
        yield from bar


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format of the diagnostics.")
def check(paths: tuple[str, ...], fmt: str) -> None:
    """Check spec files and folders (recursively) and report every problem at once.

    Each problem is printed as `file:line:col: error[CODE]: message` with the source line,
    a caret under the problem and a `help:` line. `--format json` prints a list of objects,
    `--format sarif` a SARIF 2.1.0 log for code-scanning tools. See docs/diagnostics.md.
    The cost estimate's prices and budgets come from agent-factory.toml in the working folder,
    never from one beside the specs (docs/configuration.md).
    """
    _without_pydantic_plugins()
    from agent_factory.compiler import check as check_file

    reporter = Reporter(fmt)
    files = _expand(paths)
    note_unused_configs(files, "check", has_option=False)
    for path in _progress(files):
        reporter.add(check_file(path))  # reported as it finishes: nothing of it is kept in text mode
    reporter.finish()
    sys.exit(Exit.ERRORS if reporter.failed else Exit.OK)


def _write(files: dict[str, str], out: Path, check_only: bool, fmt: str) -> list[Path]:
    """Write `files` under `out`, or (`check_only`) return those that differ from what is there."""
    stale = []
    for name, text in sorted(files.items()):
        destination = out / name
        if check_only:
            if not destination.is_file() or destination.read_text(encoding="utf-8") != text:
                stale.append(destination)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
            if fmt == "text":
                click.echo(f"wrote {destination}", err=True)
    return stale


@click.command("compile")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--target", "-t", default="ir", show_default=True,
              help="What to emit: ir (the typed IR as JSON), langgraph (a LangGraph application: graph.py per agent, "
                   "one langgraph.json), "
                   "mermaid (a flowchart), openhands (a code-generation job); plugins may add more (--list-targets).")
@click.option("--output", "-o", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True,
              help="Folder to write the generated files into.")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when the files in the output folder are stale or were edited by hand.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="Output format of the diagnostics.")
@click.option("--list-targets", is_flag=True, help="List the available targets and exit.")
def compile_cmd(paths: tuple[str, ...], target: str, out_dir: str, check_only: bool, fmt: str, list_targets: bool) -> None:
    """Check specs and, when they are clean, emit them with a backend.

    Output is deterministic: compiling twice gives identical bytes, and every generated file
    starts with its provenance (spec path, spec SHA-256, constitution SHA-256, compiler version).
    The cost estimate's prices and budgets come from agent-factory.toml in the working folder,
    never from one beside the specs (docs/configuration.md).
    """
    _without_pydantic_plugins()
    from agent_factory.compiler import PassManager, compile as compile_file

    backends = PassManager.default().backends()
    if list_targets:
        for name in sorted(backends):
            click.echo(f"{name:12} {backends[name].description}")
        sys.exit(Exit.OK)
    if not paths:
        raise click.UsageError("give the spec files or folders to compile")
    if target not in backends:
        click.echo(f"error: unknown target `{target}`; available: {', '.join(sorted(backends))}", err=True)
        sys.exit(Exit.USAGE)
    results, stale, emitted = [], [], {}
    out = Path(out_dir)
    named = {_canonical(Path(p)) for p in paths if Path(p).is_file()}
    owners: dict[Path, Path] = {}  # output file -> the spec that wrote it
    files = [_canonical(p) for p in _expand(paths)]
    note_unused_configs(files, "compile", has_option=False)
    for path in _progress(files):
        # a file found in a folder is skipped when the target does not compile its kind;
        # a file named on the command line is compiled (and reported) as asked
        result, files = compile_file(path, target, skip_other_kinds=path not in named)
        if _clashes(path, files, out, owners, result):
            files = {}
        owners.update({out / name: path for name in files})
        results.append(result)
        if result.skipped and fmt == "text":
            click.echo(f"skipped {path}: {result.skipped}", err=True)
        emitted.update(files)
        stale += _write(files, out, check_only, fmt)
    combine = backends[target].combine
    if combine is not None and emitted and all(r.ok for r in results):
        stale += _write(combine(emitted), out, check_only, fmt)
    _report(results, fmt)
    for destination in stale:
        click.echo(f"stale or edited by hand: {destination} (run `agent-factory compile` to regenerate)", err=True)
    failed = not all(r.ok for r in results) or bool(stale)
    sys.exit(Exit.ERRORS if failed else Exit.OK)


def _canonical(path: Path) -> Path:
    """One spelling per spec file: relative to the working folder when it is inside it, else
    absolute. Generated files record the spec path, so `./specs/x.md` and `/abs/specs/x.md`
    must not make `compile --check` call the output edited by hand."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve())
    except ValueError:
        return resolved


def _clashes(path: Path, files: dict[str, str], out: Path, owners: dict[Path, Path], result) -> bool:
    """Whether `path` would overwrite what another spec of this run wrote (`a/x.md` and `b/x.md`
    both compile to `x.*`); if so the result gets E802 and nothing of it is written."""
    from agent_factory.compiler import Span
    from agent_factory.compiler.diagnostics import make

    clash = sorted(out / name for name in files if out / name in owners)
    if not clash:
        return False
    first = owners[clash[0]]
    result.diagnostics.append(make(
        "E802", f"`{path}` compiles to `{clash[0]}`, which `{first}` already wrote; `{path}` was not written",
        Span.point(str(path), 1), hint="give the two specs different file names, or compile them into different "
                                       "--output folders"))
    return True
