"""Rendering mail and email reports as text or JSON Lines, and the shared CLI plumbing.

Imported only by the ``mail`` and ``email`` commands. A text batch of more than one
input ends with a summary line (how many were checked, how many ended with each status).
Colours are used only when stdout is a terminal and ``NO_COLOR`` (https://no-color.org)
is unset or empty; the progress bar (rich, imported on demand) only when stderr is a
terminal, stdout is not, and the batch is long.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

import click

from diagnose.checks.results import CheckResult, Status
from diagnose.exceptions import UsageError
from diagnose.i18n import _, ngettext
from diagnose.render.marks import MARKS, printable, use_colour

if TYPE_CHECKING:
    from diagnose.checks.mail.report import MxHost

#: Batches at least this long get a progress bar (when stderr is a terminal).
PROGRESS_MIN = 20


class Report(Protocol):
    """What is shown of a report: ``DomainReport``, or ``EmailReport`` (which adds
    ``email``, shown as the title)."""

    @property
    def input(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def checks(self) -> Sequence[CheckResult]: ...
    @property
    def mx(self) -> Sequence[MxHost]: ...
    @property
    def verdict(self) -> str: ...
    def to_dict(self) -> Mapping[str, object]: ...


def render_text(report: Report, color: bool) -> str:
    """A report (domain or email) as lines: one per check, the MX hosts, the verdict."""

    def style(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color and (fg or bold) else text

    # Everything below may hold text from DNS records (TXT, MX names) or from the
    # input: terminal control characters are shown escaped, never sent raw.
    from diagnose.checks.names import abbreviated

    title: str = abbreviated(getattr(report, "email", None) or report.domain)
    given = abbreviated(report.input.strip())
    if given and given != title:
        title = _("{title} (given as {given})").format(title=title, given=repr(given))
    lines = [style(printable(title), bold=True)]
    width = max(len(result.id) for result in report.checks)
    tags = {status: column_word(status) for status in MARKS}
    tag_width = max(len(tag) for tag in tags.values())
    for result in report.checks:
        tag, fg = tags[result.status], MARKS[result.status].colour
        column = style(tag, fg) + " " * (tag_width - len(tag))
        # Messages quote DNS records, HTTP and SMTP answers: escaped, never raw, and
        # kept on one line (a newline in a TXT record cannot forge a report line).
        lines.append(f"  {column}  {result.id:<{width}}  {printable(one_line(result.message))}")
    for host in report.mx:
        addresses = ", ".join(host.addresses) if host.addresses else _("no address")
        kind = _("implicit MX") if host.implicit else f"MX {host.preference}"
        lines.append(f"  {kind} {printable(host.exchange)}: {addresses}")
    fg = MARKS[report.status].colour
    verdict = style(_("Verdict:"), fg, bold=True)
    lines.append(f"  {verdict} {printable(one_line(report.verdict))}")
    return "\n".join(lines)


def column_word(status: Status) -> str:
    """What a row's first column says: the four-column tag in English ("PASS", "ERR?"),
    the status word in a language that has one ("в порядке", "не определено"), padded
    by the caller to the longest. Not the tags through the catalog: "PASS" and "FAIL"
    are also ``kb test``'s verdicts there, in other words."""
    mark = MARKS[status]
    word = _(mark.word)
    return mark.tag if word == mark.word else word


def summary(counted: str, statuses: Mapping[Status, int]) -> str:
    """The last line of a batch: how many inputs (``counted``: "5 domains checked"),
    and how many ended with each status, worst first."""
    order = (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS, Status.SKIP)
    counts = ", ".join(
        _("{n} {status}").format(n=statuses[status], status=_(MARKS[status].word))
        for status in order
        if statuses.get(status)
    )
    return _("{checked}: {counts}.").format(checked=counted, counts=counts)


def domains_checked(n: int) -> str:
    """ "5 domains checked", for the summary of ``diagnose mail``."""
    return ngettext("{n} domain checked", "{n} domains checked", n).format(n=n)


def addresses_checked(n: int) -> str:
    """ "5 addresses checked", for the summary of ``diagnose email``."""
    return ngettext("{n} address checked", "{n} addresses checked", n).format(n=n)


def one_line(text: str) -> str:
    """A message as one line: a newline from a TXT record cannot forge a report line."""
    return text.replace("\n", "\\n")


#: What ``json.dumps(ensure_ascii=False)`` leaves raw but a terminal (or a JavaScript
#: reader) may act on: DEL, the C1 controls (U+009B is CSI) and the line separators.
_JSON_RAW = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}


def render_json(report: Report) -> str:
    """One JSON line; text from DNS is kept as data, every control character escaped
    (``json`` escapes C0 itself; the rest is escaped here, still the same JSON)."""
    return json.dumps(report.to_dict(), ensure_ascii=False).translate(_JSON_RAW)


def read_lines(path: str) -> Iterator[str]:
    """Names from a file (``-`` for stdin), one a line; blank lines and ``#`` comments
    are skipped. Read lazily so that a 100,000-line file costs no memory."""
    if path == "-":
        stream: TextIO = sys.stdin
        close = False
    else:
        from diagnose.fileio import InputFileError, open_stream, reason

        try:
            stream = open_stream(path)  # a FIFO without a writer must not hang
        except OSError as error:
            raise UsageError(_cannot_read(path, reason(error))) from None
        except InputFileError as error:
            raise UsageError(
                _("Cannot read the file {path}: it {reason}.").format(path=path, reason=error)
            ) from None
        close = True
    try:
        for line in _lines(stream, path):
            text = line.split("#", 1)[0].strip()
            if text:
                yield text
    finally:
        if close:
            stream.close()


def _lines(stream: TextIO, path: str) -> Iterator[str]:
    try:
        yield from stream
    except UnicodeDecodeError:
        raise UsageError(_("The file {path} is not UTF-8 text.").format(path=path)) from None
    except OSError as error:
        from diagnose.fileio import reason

        raise UsageError(_cannot_read(path, reason(error))) from None


def _cannot_read(path: str, reason: str) -> str:
    return _("Cannot read the file {path}: {reason}.").format(path=path, reason=reason)


def inputs(
    names: tuple[str, ...], from_file: str | None, missing: str
) -> tuple[Iterable[str], int]:
    """The names to check, and how many when known (-1 for a file); ``missing`` is the
    usage error when there are none ("Give at least one domain, ...")."""
    if not names and from_file is None:
        raise UsageError(missing)
    if from_file is None:
        return names, len(names)
    if from_file != "-" and not os.access(from_file, os.R_OK):
        # Fail before any output when the file is unreadable.
        exists = os.path.exists(from_file)
        reason = _("permission denied") if exists else _("no such file")
        raise UsageError(_cannot_read(from_file, reason))
    if from_file != "-" and os.path.isdir(from_file):
        raise UsageError(
            _("Cannot read the file {path}: it is a directory.").format(path=from_file)
        )

    def chained() -> Iterator[str]:
        yield from names
        yield from read_lines(from_file)

    return chained(), -1


@contextmanager
def progress(total: int, streaming: bool) -> Iterator[Callable[[], None]]:
    """A callable to advance a progress bar on stderr, shown only on a terminal for a
    long batch; otherwise a no-op."""
    long_batch = streaming or total >= PROGRESS_MIN
    # Only when the results go elsewhere (a file, a pipe): on a terminal the results
    # themselves show the progress, and a live bar would garble them.
    if not (long_batch and use_colour(sys.stderr)) or sys.stdout.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn(_("checking")),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,
    )
    with bar:
        task = bar.add_task("checking", total=None if total < 0 else total)
        yield lambda: bar.advance(task)


def emit(
    reports: Iterable[Report],
    output_format: str,
    total: int,
    counted: Callable[[int], str] = domains_checked,
) -> int:
    """Print each report as it arrives (in input order); return the exit code. A text
    batch of more than one input ends with a summary line (``counted``: "5 domains
    checked", then how many ended with each status); JSON Lines stay one object a line.
    """
    from diagnose.checks.results import exit_code_for

    out = sys.stdout
    color = output_format == "text" and use_colour(out)
    statuses: dict[Status, int] = {}
    first = True
    # The reports are closed however this ends (a reader that went away, Ctrl-C): the
    # batch's event loop then cancels its lookups now, not in a warning at exit.
    with progress(total, total < 0) as advance, _closing(reports):
        for report in reports:
            statuses[report.status] = statuses.get(report.status, 0) + 1
            if output_format == "json":
                click.echo(render_json(report))
            else:
                if not first:
                    click.echo("")
                click.echo(render_text(report, color), color=color)
            first = False
            out.flush()
            advance()
    shown = sum(statuses.values())
    if output_format == "text" and shown > 1:
        click.echo("")
        click.echo(summary(counted(shown), statuses))
    return exit_code_for(statuses)


@contextmanager
def _closing(items: Iterable[object]) -> Iterator[None]:
    try:
        yield
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
