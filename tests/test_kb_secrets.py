"""A knowledge base that asks for a password or a one-time code fails to load (and so
fails ``diagnose kb check``); one that only mentions them loads."""

from __future__ import annotations

import pytest
from conftest import edited_kb

from diagnose.exceptions import KnowledgeBaseError
from diagnose.kb.loader import load
from diagnose.secrets import asks_for_secret

REFUSED = "diagnose never asks for a password or a one-time code."


NEW_QUESTION = '[[question]]\nid = "goal"'

# (name, file, text to replace, replacement, expected problem)
ASKING = [
    (
        "ticket-field-what-is-your-password",
        "support.toml",
        'prompt = { en = "What is the name of the project concerned?"',
        'prompt = { en = "What is your password?"',
        f"support.toml: ticket field 'project': {REFUSED} "
        'Its prompt asks for one ("what is your password"): reword it.',
    ),
    (
        "ticket-field-in-russian",
        "support.toml",
        'ru = "Как называется проект, к которому относится обращение?"',
        'ru = "Введите пароль от личного кабинета"',
        f"support.toml: ticket field 'project': {REFUSED} "
        'Its prompt asks for one ("введите пароль"): reword it.',
    ),
    (
        "text-question-code-from-sms",
        "questions.toml",
        NEW_QUESTION,
        '[[question]]\nid = "sms"\ntype = "text"\nprompt = "Enter the code from SMS"\n\n'
        + NEW_QUESTION,
        f"questions.toml: question 'sms': {REFUSED} "
        'Its prompt asks for one ("enter the code"): reword it.',
    ),
    (
        "text-question-bare-label",
        "questions.toml",
        NEW_QUESTION,
        '[[question]]\nid = "otp"\ntype = "text"\nprompt = "Код из SMS:"\n\n' + NEW_QUESTION,
        f"questions.toml: question 'otp': {REFUSED} Its prompt asks for one",
    ),
    (
        "text-question-named-for-a-code",
        "questions.toml",
        NEW_QUESTION,
        '[[question]]\nid = "sms-code"\ntype = "text"\nprompt = "Anything else?"\n\n'
        + NEW_QUESTION,
        f"questions.toml: question 'sms-code': {REFUSED} Its id names one: rename it.",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"), [a[1:] for a in ASKING], ids=[a[0] for a in ASKING]
)
def test_asking_for_a_secret_is_a_named_problem(tmp_path, file, old, new, expected):
    directory = edited_kb(tmp_path, file, old, new)
    with pytest.raises(KnowledgeBaseError) as caught:
        load(directory)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert all(str(directory) in problem for problem in caught.value.problems)


# (name, file, text to replace, replacement): each loads without a problem.
MENTIONING = [
    (
        "russian-ticket-field-that-warns",
        "support.toml",
        'prompt.ru = "Укажите логин аккаунта',
        'prompt.ru = "Пароль вводить не нужно. Укажите логин аккаунта',
    ),
    (
        "choice-question-about-a-lost-password",
        "questions.toml",
        'prompt = { en = "What stops you from signing in?"',
        'prompt = { en = "Did you lose your password or the app that gives you codes?"',
    ),
    (
        "ticket-field-that-warns",
        "support.toml",
        'prompt.en = "Which login (the email address you sign in with) is the account\'s?"',
        'prompt.en = "Which login is the account\'s? Do not type your password."',
    ),
    (
        "ticket-field-about-an-error-code",
        "support.toml",
        'prompt = { en = "What is the name of the project concerned?"',
        'prompt = { en = "Enter the error code you see, if any, and the project\'s name."',
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new"), [m[1:] for m in MENTIONING], ids=[m[0] for m in MENTIONING]
)
def test_mentioning_a_password_is_no_problem(tmp_path, file, old, new):
    load(edited_kb(tmp_path, file, old, new))


def test_yes_no_question_named_for_a_password_is_no_problem(tmp_path):
    """A yes/no answer is stored, never the password: only typed answers' ids count."""
    question = '[[question]]\nid = "lost-password"\ntype = "yesno"\nprompt = "Did you lose your password?"\n\n'
    directory = edited_kb(tmp_path, "questions.toml", NEW_QUESTION, question + NEW_QUESTION)
    with pytest.raises(KnowledgeBaseError) as caught:
        load(directory)
    assert [p for p in caught.value.problems if "lost-password" in p] == [
        f"{directory / 'questions.toml'}: question 'lost-password': no rule uses it."
    ]


def test_kb_check_fails_on_a_prompt_that_asks_for_a_password(cli, tmp_path):
    directory = edited_kb(
        tmp_path,
        "support.toml",
        'prompt = { en = "What is the name of the project concerned?"',
        'prompt = { en = "Please type your password here."',
    )
    result = cli("kb", "check", "--rules", str(directory))
    assert result.exit_code == 1
    assert (
        f"support.toml: ticket field 'project': {REFUSED} Its prompt asks for one" in result.stderr
    )
    assert "Traceback" not in result.stderr


ASKS = [
    "What is your password?",
    "What's the verification code?",
    "Which code did you receive?",
    "Enter the code from SMS",
    "Enter your 6-digit code",
    "Please send us your password.",
    "Provide your current password",
    "Tell us your PIN",
    "Type the one-time code and the number",
    "Password:",
    "Your 2FA code?",
    "Введите пароль",
    "Введите код из СМС",
    "Укажите ваш пароль от личного кабинета",
    "Пришлите код подтверждения",
    "Сообщите код",
    "Какой у вас пароль?",
    "Код из SMS:",
]
MENTIONS = [
    "Did you lose your password?",
    "Have you reset your password?",
    "Forgot your password?",
    "Do not type your password.",
    "Never send us your password or a code.",
    "Tell us when the password stopped working",
    "What happened to your password?",
    "What is the password policy?",
    "Which password manager do you use?",
    "Enter the email for password reset",
    "Enter the error code you see",
    "Did the SMS code arrive?",
    "Which login (the email address you sign in with) is the account's?",
    "Вы забыли пароль?",
    "Не вводите пароль.",
    "Приходит ли код по СМС?",
    "Введите код ошибки",
    "Какой код ошибки вы видите?",
]


@pytest.mark.parametrize("prompt", ASKS)
def test_prompt_that_asks_for_a_secret(prompt):
    assert asks_for_secret(prompt) is not None


@pytest.mark.parametrize("prompt", MENTIONS)
def test_prompt_that_only_mentions_one(prompt):
    assert asks_for_secret(prompt) is None


def test_shipped_prompts_ask_for_nothing_secret():
    kb = load()
    prompts = [q.prompt for q in kb.questions.values()] + [f.prompt for f in kb.ticket_fields]
    assert [p for p in prompts if asks_for_secret(p)] == []
