"""The words of the web page, in the request's language.

Kept in Python (not in the templates) so that the catalog's extractor, which reads the
package's Python files (tools/catalog.py), finds every one of them.
"""

from __future__ import annotations

from diagnose.checks.results import Status
from diagnose.i18n import _


def words() -> dict[str, str]:
    """Every fixed text of the page, translated now (call inside ``i18n.speaking``)."""
    return {
        "site": _("Support consultation"),
        "skip": _("Skip to the content"),
        "language": _("Language"),
        "question": _("Question {number}"),
        "next": _("Next"),
        "unknown": _("I don't know"),
        "back": _("Back"),
        "restart": _("Start again"),
        "why": _("Why is this asked?"),
        "yes": _("Yes"),
        "no": _("No"),
        "your_answer": _("Your answer"),
        "checks": _("Live checks"),
        "checking": _("Checking, please wait…"),
        "steps": _("What to do"),
        "correct": _("Or type the corrected {what}:"),
        "correct_button": _("Check again"),
        "field": _("Detail {index} of {total}"),
        "save_field": _("Save and continue"),
        "skip_field": _("Skip"),
        "keeps": _("Left empty, it keeps {value}."),
        "draft": _("Your request to support"),
        "review": _("Is the draft right? Keep it, or change a field."),
        "keep": _("Keep the draft"),
        "change": _("Change {field}"),
        "contact": _("Contact support"),
        "hours": _("Hours: {hours}"),
        "mail": _("Send the draft by mail"),
        "download_md": _("Download as Markdown"),
        "download_json": _("Download as JSON"),
        "explain": _("How this was reached, and why not the other answers"),
        "how": _("How this was reached"),
        "why_not": _("Why not the others"),
        "error": _("Something is not right"),
        "not_found": _("There is no such page."),
        "home": _("Go to the start"),
        "lead": _(
            "Support needs a few details to act on this without writing back to you. "
            "Each may be skipped."
        ),
    }


def status_word(status: Status) -> str:
    """A live check's status in words, for people."""
    return {
        Status.PASS: _("fine"),
        Status.WARN: _("warning"),
        Status.FAIL: _("problem found"),
        Status.ERROR: _("undetermined"),
        Status.SKIP: _("not checked"),
    }[status]
