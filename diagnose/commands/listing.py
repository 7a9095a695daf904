"""``diagnose articles`` and ``diagnose questions``: what the knowledge base holds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from diagnose.commands.options import format_option, rules_option
from diagnose.i18n import N_, _

if TYPE_CHECKING:
    from typing import TypedDict

    from diagnose.kb.model import KnowledgeBase

    class _ChoiceRow(TypedDict):
        id: str
        label: str

    class _QuestionRow(TypedDict):
        id: str
        prompt: str
        type: str
        choices: list[_ChoiceRow]


#: The words the text listings use for an article's outcome and a question's type.
_OUTCOMES = {
    "resolution": N_("resolution"),
    "information": N_("information"),
    "escalation": N_("escalation"),
}
_TYPES = {
    "choice": N_("choice"),
    "yesno": N_("yesno"),
    "text": N_("text"),
    "email": N_("email"),
    "phone": N_("phone"),
    "domain": N_("domain"),
    "ticket": N_("ticket"),
}


@click.command()
@format_option()
@rules_option
def articles(output_format: str, rules_dir: str | None) -> None:
    """List the articles: id, title and outcome."""
    from diagnose.kb.loader import load

    kb = load(rules_dir)
    rows = article_rows(kb)
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(row["id"]) for row in rows)
    # The outcome in words (the JSON keeps its id): "escalation" is «обращение в поддержку».
    outcomes = {row["outcome"]: _(_OUTCOMES.get(row["outcome"], row["outcome"])) for row in rows}
    column = max([11, *(len(shown) for shown in outcomes.values())])
    for row in rows:
        click.echo(f"{row['id']:<{width}}  {outcomes[row['outcome']]:<{column}}  {row['title']}")


@click.command()
@format_option()
@rules_option
def questions(output_format: str, rules_dir: str | None) -> None:
    """List the questions with their ids, types and legal answers (for --answer ID=VALUE)."""
    from diagnose.kb.loader import load
    from diagnose.kb.model import UNKNOWN

    kb = load(rules_dir)
    rows = question_rows(kb)
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        kind = _(_TYPES.get(row["type"], row["type"]))  # the id stays in the JSON
        click.echo(f"{row['id']} ({kind}): {row['prompt']}")
        for choice in row["choices"]:
            click.echo(f"    {choice['id']:<16} {choice['label']}")
        if row["choices"] or row["type"] in {"yesno"}:
            click.echo(f"    {UNKNOWN:<16} " + _("I don't know"))


def article_rows(kb: KnowledgeBase) -> list[dict[str, str]]:
    """The articles as ``articles --format json`` lists them (the web API too)."""
    return [{"id": a.id, "title": a.title, "outcome": str(a.outcome)} for a in kb.articles.values()]


def question_rows(kb: KnowledgeBase) -> list[_QuestionRow]:
    """The questions and ticket fields as ``questions --format json`` lists them."""
    rows: list[_QuestionRow] = []
    for question in kb.questions.values():
        rows.append(
            {
                "id": question.id,
                "prompt": question.prompt,
                "type": str(question.type),
                "choices": [{"id": c.id, "label": c.label} for c in question.choices],
            }
        )
    for field in kb.ticket_fields:
        rows.append({"id": field.id, "prompt": field.prompt, "type": "ticket", "choices": []})
    return rows
