"""Generated knowledge bases of any size, shaped like the shipped one.

A knowledge base of ``n`` rules has a ``goal`` question with one choice per area of ten
rules; each area has a ``problem`` question with ten choices and a yes/no ``detail``
question. Rule ``k`` of area ``a`` needs ``goal = area-a`` and ``problem-a = p<k>``;
every third rule also needs ``detail-a = yes`` (three conditions), every fifth names a
value list or an ``is_not``. The last rule has no conditions and leads to the fallback
article. Every rule has its own article, so the knowledge base is valid (every article
reached, every question used) and ``diagnose kb`` accepts it.
"""

from __future__ import annotations

from pathlib import Path

SUPPORT = """[support]
name = "Generated"
fallback = "fallback"

[[channel]]
id = "portal"
name = "Portal"
address = "https://example.invalid"
hours = "always"

[[article]]
id = "fallback"
title = "Nothing matched"
outcome = "escalation"
channel = "portal"
summary = "No rule matched."
steps = ["Contact support."]
"""


def _q(text: str) -> str:
    return '"' + text + '"'


def areas(rules: int) -> int:
    return max(1, (rules - 1 + 9) // 10)


def write_kb(directory: Path, rules: int) -> Path:
    """Write a valid knowledge base of ``rules`` rules (the fallback rule included)."""
    directory.mkdir(parents=True, exist_ok=True)
    count = areas(rules)
    questions = [
        '[[question]]\nid = "goal"\ntype = "choice"\nprompt = "What are you trying to do?"\n'
        "choices = ["
        + ", ".join(f'{{ id = "area-{a}", label = "Area {a}" }}' for a in range(count))
        + "]\n"
    ]
    for a in range(count):
        questions.append(
            f'[[question]]\nid = "problem-{a}"\ntype = "choice"\nprompt = "Problem in area {a}?"\n'
            "choices = ["
            + ", ".join(f'{{ id = "p{k}", label = "Problem {k}" }}' for k in range(10))
            + "]\n"
        )
        questions.append(
            f'[[question]]\nid = "detail-{a}"\ntype = "yesno"\nprompt = "Detail of area {a}?"\n'
        )
    articles, body = [], []
    used_detail: set[int] = set()
    for index in range(rules - 1):
        a, k = divmod(index, 10)
        conditions = [f"{{ question = {_q('goal')}, is = {_q(f'area-{a}')} }}"]
        if index % 5 == 4:
            conditions.append(
                f"{{ question = {_q(f'problem-{a}')}, is = [{_q(f'p{k}')}, {_q('unknown')}] }}"
            )
        else:
            conditions.append(f"{{ question = {_q(f'problem-{a}')}, is = {_q(f'p{k}')} }}")
        if index % 3 == 0:
            test = "is_not" if index % 2 else "is"
            conditions.append(f"{{ question = {_q(f'detail-{a}')}, {test} = {_q('yes')} }}")
            used_detail.add(a)
        articles.append(
            f'[[article]]\nid = "art-{index}"\ntitle = "Article {index}"\n'
            f'outcome = "resolution"\nsummary = "Summary {index}."\nsteps = ["Step {index}."]\n'
        )
        body.append(
            f'[[rule]]\nid = "rule-{index}"\narticle = "art-{index}"\nrationale = "Because {index}."\n'
            f"when = [{', '.join(conditions)}]\n"
        )
    body.append(
        '[[rule]]\nid = "no-match"\narticle = "fallback"\nrationale = "Nothing else applies."\n'
        "when = []\n"
    )
    # A detail question no rule uses would be a defect: keep only the used ones.
    questions = [
        q
        for q in questions
        if not q.startswith('[[question]]\nid = "detail-')
        or int(q.split('"')[1].split("-")[1]) in used_detail
    ]
    (directory / "support.toml").write_text(SUPPORT)
    (directory / "questions.toml").write_text("\n".join(questions))
    (directory / "articles.toml").write_text("\n".join(articles))
    (directory / "rules.toml").write_text("\n".join(body))
    return directory


def paths(rules: int) -> list[dict[str, str]]:
    """Scripted answers reaching a rule early, in the middle and at the end."""
    count = areas(rules)
    chosen = []
    for a in sorted({0, count // 2, count - 1}):
        for k in (1, 3, 6):
            chosen.append({"goal": f"area-{a}", f"problem-{a}": f"p{k}", f"detail-{a}": "no"})
    return chosen


def write_scenarios(directory: Path, rules: int, every: int = 10) -> int:
    """Write ``scenarios/generated.toml``: one scenario for every ``every``-th rule (and
    the fallback); returns how many. Each answers what its rule needs and expects its
    article and rule, so ``diagnose kb test`` passes on the generated knowledge base."""
    lines = []
    for index in range(0, rules - 1, every):
        a, k = divmod(index, 10)
        detail = "no" if index % 3 == 0 and index % 2 else "yes"
        lines.append(
            f'[[scenario]]\nname = "rule {index}"\n'
            f'answers = {{ goal = "area-{a}", problem-{a} = "p{k}", detail-{a} = "{detail}" }}\n'
            f'expect = "art-{index}"\nrule = "rule-{index}"\n'
        )
    lines.append(
        '[[scenario]]\nname = "nothing matches"\nanswers = { goal = "unknown" }\n'
        'expect = "fallback"\nrule = "no-match"\n'
    )
    (directory / "scenarios").mkdir(exist_ok=True)
    (directory / "scenarios" / "generated.toml").write_text("\n".join(lines))
    return len(lines)


def write_wide_kb(directory: Path, rules: int) -> Path:
    """A valid knowledge base of ``rules`` rules over one choice question with one
    choice per rule (the fallback rule included): rule ``k`` needs ``goal = c<k>``.
    The shape that made loading quadratic (issue 9): every condition names the same
    question, whose legal values are as many as the rules."""
    directory.mkdir(parents=True, exist_ok=True)
    count = rules - 1
    question = (
        '[[question]]\nid = "goal"\ntype = "choice"\nprompt = "What are you trying to do?"\n'
        "choices = ["
        + ", ".join(f'{{ id = "c{k}", label = "Choice {k}" }}' for k in range(count))
        + "]\n"
    )
    articles = [
        f'[[article]]\nid = "art-{k}"\ntitle = "Article {k}"\noutcome = "resolution"\n'
        f'summary = "Summary {k}."\nsteps = ["Step {k}."]\n'
        for k in range(count)
    ]
    body = [
        f'[[rule]]\nid = "rule-{k}"\narticle = "art-{k}"\nrationale = "Because {k}."\n'
        f'when = [{{ question = "goal", is = "c{k}" }}]\n'
        for k in range(count)
    ]
    body.append(
        '[[rule]]\nid = "no-match"\narticle = "fallback"\nrationale = "Nothing else applies."\n'
        "when = []\n"
    )
    (directory / "support.toml").write_text(SUPPORT)
    (directory / "questions.toml").write_text(question)
    (directory / "articles.toml").write_text("\n".join(articles))
    (directory / "rules.toml").write_text("\n".join(body))
    return directory
