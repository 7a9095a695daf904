"""The entry point (the ``diagnose`` script and ``python -m diagnose``).

It imports nothing but the standard library before it is ready for trouble, so that
Ctrl-C while click, experta or the knowledge base load is an exit, not a traceback.
What it guards, for every command (README.md, "Exit codes"):

- standard streams that are closed (``<&-``, ``2>&-``) or cannot encode the text
  (``PYTHONIOENCODING=ascii``: characters degrade to escapes, never a crash);
- a closed reader of the output (``| head -1``): exit ``EXIT_BROKEN_PIPE`` (141, as a
  shell reports a process ended by SIGPIPE), silently, as other tools do;
- output that cannot be written (``>/dev/full``, ``>&-``): one line on stderr, exit 2;
- Ctrl-C anywhere outside a consultation's own handling: one line, exit 130, and the
  terminal's cursor shown again (a spinner hides it).
"""

from __future__ import annotations

import os
import sys

# Copies of diagnose.exceptions' codes: importing that module is cheap, but this file
# must not depend on anything that could fail to import before the guards are up.
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130
_EXIT_BROKEN_PIPE = 141
_SHOW_CURSOR = "\x1b[?25h"


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its code; never a traceback for the
    troubles above."""
    try:
        code = _run(argv)
    except KeyboardInterrupt:
        # A second Ctrl-C while the first was being reported: still the same stop.
        # (Left to itself, the interpreter would end by SIGINT, not with 130.)
        code = _EXIT_INTERRUPTED
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    try:
        stdout_closed = _standard_streams()
        if stdout_closed:
            _say(_error(_words(argv, N_("standard output is closed; nothing could be written."))))
            return _EXIT_USAGE
        import click

        from diagnose.cli import cli

        try:
            code = cli.main(args=argv, prog_name="diagnose", standalone_mode=False)
        except click.ClickException as error:  # a usage error: one line from click
            error.show()
            code = error.exit_code
        except SystemExit:
            # click itself catches a broken pipe (EPIPE), even outside its standalone
            # mode: it wraps stdout in a PacifyFlushWrapper and exits 1, which here
            # means "a problem was found". Its wrapper is how to tell (by name: the
            # class moves between click's modules from version to version).
            if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
                raise BrokenPipeError from None
            raise
        if sys.stdout is not None:
            sys.stdout.flush()  # here, where a failure is still ours to report
        code = code if isinstance(code, int) else 0
        if getattr(sys.modules.get("diagnose.cli"), "_exit_quickly", False):
            # The command asked to skip the interpreter's tear-down (the mail checks:
            # diagnose.cli.exit_without_cleanup); its output is flushed by now.
            if sys.stderr is not None:
                sys.stderr.flush()
            os._exit(code)
        return code
    except (KeyboardInterrupt, _abort()):
        restore_cursor()
        _say("\ndiagnose: " + _words(argv, N_("interrupted.")))
        return _EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return _EXIT_BROKEN_PIPE
    except OSError as error:  # writing the output failed: a full disk, a closed descriptor
        _silence_stdout()
        message = _words(argv, N_("cannot write the output: {reason}."))
        _say(_error(message.format(reason=_reason(error))))
        return _EXIT_USAGE


def N_(message: str) -> str:
    """Marks ``message`` for the catalog (as ``diagnose.i18n.N_``); ``_words`` translates
    it. Defined here: nothing of diagnose is imported before the guards are up."""
    return message


def _words(argv: list[str] | None, message: str) -> str:
    """``message`` in the language chosen (``--lang``, then the environment), English
    when the catalog cannot be read: a line about a broken pipe or a full disk must
    come out whatever else is broken."""
    try:
        from diagnose import i18n

        if i18n.current() == i18n.DEFAULT:  # perhaps stopped before the language was chosen
            args = sys.argv[1:] if argv is None else argv
            i18n.activate(i18n.normalize(_language_in(args)) or i18n.from_environment())
        return i18n._(message)
    except Exception:
        return message


def _language_in(args: list[str]) -> str | None:
    """``--lang``'s value among the top-level options, as ``diagnose.cli`` reads it
    (not imported from there: this may run before click could be imported)."""
    for index, arg in enumerate(args):
        if arg == "--lang":
            return args[index + 1] if index + 1 < len(args) else None
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if not arg.startswith("-"):
            break
    return None


def _error(message: str) -> str:
    """The line of an error, as ``diagnose.cli`` prints one ("diagnose: error: ...")."""
    try:
        from diagnose.i18n import _

        return "diagnose: " + _("error: {message}").format(message=message)
    except Exception:
        return f"diagnose: error: {message}"


def _reason(error: OSError) -> str:
    try:
        from diagnose.fileio import reason

        return reason(error)
    except Exception:
        return error.strerror or str(error)


def _abort() -> type[BaseException]:
    """click.Abort (what click makes of a KeyboardInterrupt) once click is imported;
    a class nothing raises before that."""
    click = sys.modules.get("click")
    abort: type[BaseException] = click.Abort if click is not None else _Never
    return abort


class _Never(Exception):
    """Never raised: stands for click.Abort when click did not load."""


def _standard_streams() -> bool:
    """Make the standard streams safe to use; True when stdout is closed.

    A closed descriptor 0, 1 or 2 gets /dev/null, so that a file diagnose opens later
    never takes its number and is mistaken for a standard stream. Closed stdin reads as
    empty (so nothing is prompted); a closed stderr swallows the messages. Encodings
    that cannot hold every character (``PYTHONIOENCODING=ascii``, the C locale) escape
    what they cannot encode instead of raising.
    """
    closed = {fd for fd in (0, 1, 2) if not _is_open(fd)}
    for fd in sorted(closed):
        null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    if 0 in closed or sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until exit
    if 2 in closed or sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if 1 in closed or sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        return True
    import io

    for stream, errors in (
        (sys.stdout, "backslashreplace"),
        (sys.stderr, "backslashreplace"),
        (sys.stdin, "replace"),
    ):
        if isinstance(stream, io.TextIOWrapper) and not _holds_everything(stream.encoding):
            stream.reconfigure(errors=errors)
    return False


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _holds_everything(encoding: str | None) -> bool:
    return (encoding or "").lower().replace("-", "").replace("_", "") in {"utf8", "utf16", "utf32"}


def _silence_stdout() -> None:
    """Point descriptor 1 at /dev/null: what is still buffered for a closed pipe or a
    full disk is discarded at exit instead of failing again with a message."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


def _say(line: str) -> None:
    try:
        if sys.stderr is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left


def restore_cursor() -> None:
    """Show the cursor again, should a spinner have been interrupted while it was hidden."""
    for stream in (sys.stderr, sys.stdout):
        try:
            if stream is not None and stream.isatty():
                stream.write(_SHOW_CURSOR)
                stream.flush()
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    main()
