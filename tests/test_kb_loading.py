"""Loading the knowledge base: the shipped one is valid; each defect is named precisely."""

from __future__ import annotations

import re

import pytest
from conftest import edited_kb

from diagnose.conversation.answers import parse_answer
from diagnose.exceptions import KnowledgeBaseError
from diagnose.kb.loader import load
from diagnose.kb.model import Outcome

ARTICLE_OUTCOMES = {
    "contact-support": "information",
    "response-time": "information",
    "change-phone": "escalation",
    "register-foreign-phone": "information",
    "forgot-password": "resolution",
    "lost-2fa": "escalation",
    "registration-bonus": "information",
    "quota-increase": "escalation",
    "delete-account": "escalation",
    "support-mail-not-received": "resolution",
    "not-found": "escalation",
}


def test_shipped_knowledge_base_has_the_eleven_faq_articles():
    kb = load()
    assert {a.id: str(a.outcome) for a in kb.articles.values()} == ARTICLE_OUTCOMES
    for article in kb.articles.values():
        if article.outcome is Outcome.ESCALATION:
            assert article.channel and set(article.ticket) >= {"login", "project", "description"}


def test_support_channels_are_data():
    kb = load()
    assert [(c.id, c.address, c.hours) for c in kb.channels] == [
        ("portal", "https://support.mcs.mail.ru", "around the clock"),
        ("mail", "support@mcs.mail.ru", "around the clock"),
        ("phone", "+7 (499) 350-97-03", "around the clock"),
    ]


def test_shipped_knowledge_base_speaks_russian():
    kb = load(lang="ru")
    assert (kb.languages, kb.lang, kb.missing) == (("en", "ru"), "ru", ())
    goal = kb.questions["goal"]
    assert goal.prompt == "Что вы хотите сделать?"
    sign_in = goal.choices[0]
    assert (sign_in.id, sign_in.label) == ("sign-in", "Войти в личный кабинет")
    assert set(sign_in.labels) == {"Sign in to my account", "Войти в личный кабинет"}
    assert kb.articles["quota-increase"].summary == (
        "Расширение квот ресурсов выполняется по запросу в техническую поддержку."
    )
    assert "«Восстановить пароль»" in kb.articles["forgot-password"].steps[1]
    assert "/help/ru_RU/" in kb.articles["response-time"].steps[0]
    assert [(c.name, c.address, c.hours) for c in kb.channels] == [
        ("Портал технической поддержки", "https://support.mcs.mail.ru", "круглосуточно"),
        ("Электронная почта", "support@mcs.mail.ru", "круглосуточно"),
        ("Телефон", "+7 (499) 350-97-03", "круглосуточно"),
    ]
    assert kb.ticket_fields[0].label == "Логин"


def test_shipped_knowledge_base_in_english_is_the_fallback():
    english, undeclared = load(lang="en"), load(lang="de")
    assert (english.lang, undeclared.lang, english.missing) == ("en", "en", ())
    assert english.questions["goal"].prompt == "What are you trying to do?"
    assert english.questions["goal"].choices[0].label == "Sign in to my account"
    assert "/help/en_US/" in english.articles["response-time"].steps[0]
    assert undeclared.questions == english.questions
    assert undeclared.articles == english.articles


def test_a_choice_label_is_understood_in_either_language():
    for lang in ("en", "ru"):
        question = load(lang=lang).questions["goal"]
        assert parse_answer(question, "войти в личный кабинет") == "sign-in"
        assert parse_answer(question, "Sign in to my account") == "sign-in"
        assert parse_answer(question, "Другое") == "other"


def test_shipped_translations_keep_placeholders_and_tell_choices_apart():
    """A customer may type a choice's label in either language, so no label may name
    two choices; advice keeps its {CHECK-ID} placeholders in every language."""
    english, russian = load(lang="en"), load(lang="ru")
    fields = [f for a in russian.articles.values() for f in a.fields]
    for item in [*russian.questions.values(), *russian.ticket_fields, *fields]:
        typed = [label.casefold() for choice in item.choices for label in set(choice.labels)]
        assert len(typed) == len(set(typed)) == 2 * len(item.choices), item.id
    for en_rule, ru_rule in zip(english.rules, russian.rules, strict=True):
        assert len(en_rule.advice) == len(ru_rule.advice), en_rule.id
        for en_line, ru_line in zip(en_rule.advice, ru_rule.advice, strict=True):
            assert re.findall(r"\{[\w-]+\}", en_line) == re.findall(r"\{[\w-]+\}", ru_line)
        assert en_rule.rationale != ru_rule.rationale, en_rule.id


# (name, file, text to replace, replacement, expected message fragment)
DEFECTS = [
    (
        "invalid-toml",
        "rules.toml",
        '[[rule]]\nid = "forgotten-password"',
        '[[rule]\nid = "forgotten-password"',
        "rules.toml: is not valid TOML",
    ),
    (
        "unknown-article",
        "rules.toml",
        'article = "forgot-password"',
        'article = "forgot-pasword"',
        "rules.toml: rule 'forgotten-password': unknown article 'forgot-pasword'.",
    ),
    (
        "unknown-question",
        "rules.toml",
        '{ question = "sign-in-problem", is = "forgot-password" }',
        '{ question = "signin-problem", is = "forgot-password" }',
        "rules.toml: rule 'forgotten-password', condition #2: unknown question 'signin-problem'.",
    ),
    (
        "unknown-check-in-condition",
        "rules.toml",
        '{ check = "phone-country", is = "fail" }',
        '{ check = "phone-region", is = "fail" }',
        "rules.toml: rule 'foreign-phone-number', condition #3: unknown check 'phone-region'",
    ),
    (
        "check-not-in-registry",
        "rules.toml",
        '[[check]]\nid = "phone-country"',
        '[[check]]\nid = "phone-colour"',
        "rules.toml: check 'phone-colour': unknown check (diagnose knows",
    ),
    (
        "illegal-answer-value",
        "rules.toml",
        '{ question = "sign-in-problem", is = "lost-2fa" }',
        '{ question = "sign-in-problem", is = "lost-totp" }',
        "rules.toml: rule 'lost-second-factor', condition #2: 'lost-totp' is not an answer to 'sign-in-problem'",
    ),
    (
        "illegal-check-status",
        "rules.toml",
        '{ check = "phone-country", is = "fail" }',
        '{ check = "phone-country", is = "broken" }',
        "'broken' is not a check status",
    ),
    (
        "duplicate-rule",
        "rules.toml",
        'id = "lost-second-factor"',
        'id = "forgotten-password"',
        "rules.toml: rule 'forgotten-password': duplicate id (first defined in",
    ),
    (
        "duplicate-article",
        "articles.toml",
        'id = "response-time"',
        'id = "contact-support"',
        "articles.toml: article 'contact-support': duplicate id",
    ),
    (
        "duplicate-choice",
        "questions.toml",
        '{ id = "lost-2fa", label',
        '{ id = "forgot-password", label',
        "questions.toml: question 'sign-in-problem': the choice id 'forgot-password' is a duplicate.",
    ),
    (
        "steps-not-a-list",
        "articles.toml",
        'steps.en = [\n  "Open the VK Cloud login screen.",',
        'steps.en = "Open the VK Cloud login screen."\nxsteps = [',
        "articles.toml: article 'forgot-password': the field 'steps' in 'en' must be a list of strings.",
    ),
    (
        "unknown-question-type",
        "questions.toml",
        'type = "phone"',
        'type = "telephone"',
        "questions.toml: question 'registration-phone': unknown type 'telephone'",
    ),
    (
        "unknown-outcome",
        "articles.toml",
        'outcome = "resolution"',
        'outcome = "fix"',
        "articles.toml: article 'forgot-password': unknown outcome 'fix'",
    ),
    (
        "escalation-without-channel",
        "articles.toml",
        'channel = "portal"\nticket = ["login", "project", "old-phone"',
        'ticket = ["login", "project", "old-phone"',
        "articles.toml: article 'change-phone': an escalation must name the support channel to use.",
    ),
    (
        # A field named like one of the ticket's own keys would overwrite it in the JSON.
        "ticket-field-named-channel",
        "support.toml",
        'id = "project"',
        'id = "channel"',
        "support.toml: ticket field 'channel': the id 'channel' is one of the ticket's own keys",
    ),
    (
        "article-field-named-subject",
        "articles.toml",
        'id = "quota-region"',
        'id = "subject"',
        "articles.toml: article 'quota-increase', ticket field 'subject': the id 'subject' is one of the ticket's own keys",
    ),
    (
        "ticket-field-named-like-a-question",
        "support.toml",
        'id = "project"',
        'id = "goal"',
        "support.toml: ticket field 'goal': the id 'goal' is also a question's id",
    ),
    (
        "article-field-not-listed",
        "articles.toml",
        '"quota-amount", "quota-region", "description"]',
        '"quota-amount", "description"]',
        "articles.toml: article 'quota-increase': its ticket field 'quota-region' is not listed in its 'ticket' list.",
    ),
    (
        "ticket-field-default-from-unknown-question",
        "support.toml",
        'default_from = "support-email"',
        'default_from = "support-mail"',
        "support.toml: ticket field 'login': default_from names an unknown question 'support-mail'.",
    ),
    (
        "ticket-field-of-type-phone",
        "articles.toml",
        'id = "quota-region"',
        'id = "quota-region"\ntype = "phone"',
        "articles.toml: article 'quota-increase', ticket field 'quota-region': a ticket field's type must be one of",
    ),
    (
        "unreachable-article",
        "rules.toml",
        'article = "delete-account"',
        'article = "change-phone"',
        "articles.toml: article 'delete-account': no rule leads to it.",
    ),
    (
        "unused-question",
        "questions.toml",
        '[[question]]\nid = "goal"',
        '[[question]]\nid = "mood"\ntype = "yesno"\nprompt = "Happy?"\n\n[[question]]\nid = "goal"',
        "questions.toml: question 'mood': no rule uses it.",
    ),
    (
        "check-input-wrong-type",
        "rules.toml",
        'id = "phone-country"\ninput = "registration-phone"',
        'id = "phone-country"\ninput = "support-email"',
        "rules.toml: check 'phone-country': its input question 'support-email' is of type email, but the check measures a phone.",
    ),
    (
        "advice-unknown-placeholder",
        "rules.toml",
        '{mail-domain}",\n  "Fix',
        '{mail-domian}",\n  "Fix',
        "rules.toml: rule 'letters-to-broken-domain': advice names '{mail-domian}', which is no check or question.",
    ),
    (
        "unknown-field",
        "rules.toml",
        'rationale.en = "Quotas are raised only by support on request."',
        'rationale.en = "Quotas are raised only by support on request."\npriority = 3',
        "rules.toml: rule 'quota-limit': unknown field 'priority'.",
    ),
    (
        "malformed-condition",
        "rules.toml",
        '{ question = "resources-problem", is = "quota" }',
        '{ question = "resources-problem", equals = "quota" }',
        "rules.toml: rule 'quota-limit', condition #2: must be { question = ID, is = VALUE }",
    ),
    (
        "secret-ticket-field",
        "support.toml",
        'id = "project"',
        'id = "password"',
        "support.toml: ticket field 'password': diagnose never asks for a password or a one-time code.",
    ),
    (
        "secret-question",
        "questions.toml",
        'id = "registration-phone"\ntype = "phone"\nprompt.en = "Which phone number',
        'id = "registration-phone"\ntype = "phone"\nprompt.en = "Type the one-time code and the number',
        "questions.toml: question 'registration-phone': diagnose never asks for a password or a one-time code.",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"), [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS]
)
def test_each_defect_is_named_with_file_and_item(tmp_path, file, old, new, expected):
    directory = edited_kb(tmp_path, file, old, new)
    with pytest.raises(KnowledgeBaseError) as caught:
        load(directory)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert all(str(directory) in problem for problem in caught.value.problems)


def test_missing_directory_and_empty_directory(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="is not a directory"):
        load(tmp_path / "nope")
    with pytest.raises(KnowledgeBaseError, match=r"holds no knowledge-base \(\*.toml\) files"):
        load(tmp_path)


def test_kb_check_command(cli, tmp_path):
    ok = cli("kb", "check")
    assert ok.exit_code == 0 and "11 articles" in ok.stdout
    directory = edited_kb(tmp_path, "rules.toml", 'article = "forgot-password"', 'article = "nope"')
    bad = cli("kb", "check", "--rules", str(directory))
    assert bad.exit_code == 1
    assert "rules.toml: rule 'forgotten-password': unknown article 'nope'." in bad.stderr
    assert "Traceback" not in bad.stderr


def test_run_with_broken_knowledge_base_is_one_line_and_exit_2(cli, tmp_path):
    directory = edited_kb(tmp_path, "rules.toml", 'article = "forgot-password"', 'article = "nope"')
    result = cli("run", "--rules", str(directory), "--no-input", "-a", "goal=other")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "unknown article 'nope'" in result.stderr


def test_other_knowledge_base_with_rules_option(cli, tmp_path):
    directory = edited_kb(
        tmp_path,
        "articles.toml",
        'title = { en = "Raising resource quotas"',
        'title = { en = "More quota"',
    )
    result = cli("articles", "--rules", str(directory), "--format", "json")
    titles = {row["id"]: row["title"] for row in result.json()}
    assert titles["quota-increase"] == "More quota"
