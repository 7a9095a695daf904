"""The exceptions diagnose raises. Every message is a whole sentence a user can act on.

The command line turns each of them into one line on stderr and the exit code the
class names (see ``diagnose.cli.main``); nothing below ever prints.
"""

from __future__ import annotations

#: Exit codes shared by every command (README.md documents them).
EXIT_OK = 0
EXIT_PROBLEM = 1  # a live check found a problem (or ``kb check`` found a defect)
EXIT_USAGE = 2  # usage error or bad input
EXIT_UNDETERMINED = 3  # a live check could not be completed
EXIT_INTERRUPTED = 130  # Ctrl-C


class DiagnoseError(Exception):
    """Base class: an error the user can fix. ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_USAGE


class UsageError(DiagnoseError):
    """The command line or an input file is not what diagnose understands."""


class AnswerError(UsageError):
    """An answer names an unknown question or gives a value the question does not allow."""


class AnswersFileError(UsageError):
    """An answers file (or a saved session) cannot be read or parsed."""


class MissingAnswerError(UsageError):
    """The engine needs an answer that was not given, and it may not prompt for it."""

    def __init__(self, message: str, question_id: str) -> None:
        super().__init__(message)
        self.question_id = question_id


class KnowledgeBaseError(DiagnoseError):
    """A knowledge-base file is unreadable or inconsistent.

    ``problems`` holds every defect found, each a sentence naming the file and the
    rule, article or question concerned; ``str()`` is the first one (and a count).
    """

    def __init__(self, problems: list[str]) -> None:
        from diagnose.i18n import _, ngettext

        self.problems = list(problems)
        first = self.problems[0] if self.problems else _("The knowledge base is invalid.")
        more = len(self.problems) - 1
        suffix = ""
        if more > 0:
            suffix = " " + ngettext(
                "(and {n} more problem)", "(and {n} more problems)", more
            ).format(n=more)
        super().__init__(first + suffix)


class SecretRefused(UsageError):
    """A value looks like a password or a one-time code, which diagnose never stores."""


class SessionInterrupted(DiagnoseError):
    """The user pressed Ctrl-C or ended the input at a prompt."""

    exit_code = EXIT_INTERRUPTED
