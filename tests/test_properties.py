"""Property-based tests over every parser of user input (issue 9).

Whatever a user gives (options and arguments, answers, answers files, saved sessions,
knowledge bases, domains, addresses, phone numbers), diagnose ends with one of its exit
codes (0, 1, 2, 3 or 130), an error is exactly one line on stderr, and nothing ends in
a traceback. The parsers are driven directly (many examples, fast) and the command line
through click's test runner in-process (fewer examples: each is a whole run).

Example counts are tuned so that the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnose.cli import cli as diagnose_cli
from diagnose.exceptions import DiagnoseError
from diagnose.kb.loader import default_rules_dir, load

FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],  # a busy CI machine is no defect
)
SLOW = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
EXIT_CODES = {0, 1, 2, 3, 130}
KB = load()

# Text as users type it and as files hold it: any Unicode (lone surrogates too, which
# is how Python hands over argument bytes that are not UTF-8), line breaks, controls.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
WORDS = st.sampled_from(
    [
        "",
        "unknown",
        "yes",
        "no",
        "sign-in",
        "lost-2fa",
        "other",
        "+7 912 345-67-89",
        "ann@example.com",
        "a" * 65 + "@example.com",
        "my password is hunter2",
        "код 123456",
        "\ufeffgoal",
        "x\ny",
        "\udcff",
        "1" * 5000,
        "пример.рф",
        "\x1b]0;title\x07",
    ]
)
# Few characters, most of them trouble: line breaks, escapes, bytes that were not
# UTF-8, a byte-order mark, a NUL (random Unicode text holds these too rarely).
NASTY = st.text(
    st.sampled_from(["\n", "\r", "\x1b", "\udcff", "\ufeff", "\u2028", "\x00", "a", "=", " ", "я"]),
    max_size=8,
)
# Mixed: a nasty word inside ordinary text, as a paste would bring it.
VALUES = st.one_of(WORDS, TEXT, NASTY, st.builds("{}{}{}".format, TEXT, WORDS, NASTY))
IDS = st.one_of(
    st.sampled_from([*KB.questions, "login", "project", "description", "registration-phone"]),
    TEXT,
)


def one_line_error(stderr: str) -> bool:
    lines = stderr.splitlines()
    return len(lines) == 1 and lines[0].startswith("diagnose: error: ")


# --- the parsers, directly ----------------------------------------------------------------


@FAST
@given(
    st.lists(
        st.one_of(
            TEXT,
            st.builds("{}={}".format, IDS, VALUES),
            st.builds("{}={}".format, st.sampled_from(["project", "login", "description"]), VALUES),
        ),
        max_size=6,
    )
)
def test_answer_options_parse_or_refuse_with_a_sentence(options):
    from diagnose.conversation.answers import parse_options, validate

    try:
        given_answers = validate(KB, parse_options(options))
    except DiagnoseError as error:
        assert str(error).endswith(".")
        return
    for question_id, value in given_answers.items():
        assert isinstance(value, str)
        field = KB.all_ticket_fields().get(question_id)
        if field is not None and not field.multiline:
            assert "\n" not in value  # a one-line field stays one line
        value.encode("utf-8")  # writable: no lone surrogate got through


@FAST
@given(VALUES)
def test_answers_to_every_question_parse_or_refuse(value):
    from diagnose.conversation.answers import parse_answer, parse_field

    for question in KB.questions.values():
        try:
            parsed = parse_answer(question, value)
        except DiagnoseError:
            continue
        if question.values is not None:
            assert parsed in question.values
    for field in KB.all_ticket_fields().values():
        with contextlib.suppress(DiagnoseError):
            parse_field(field, value).encode("utf-8")


@FAST
@given(st.one_of(VALUES, st.builds("+{}".format, st.text(string.digits + " -()", max_size=20))))
def test_phone_numbers_parse_or_refuse(value):
    from diagnose.checks.phone import parse_phone

    try:
        parse_phone(value)
    except DiagnoseError as error:
        assert str(error).endswith(".")


@FAST
@given(st.one_of(VALUES, st.from_regex(r"[a-z0-9.-]{0,70}(\.[a-z]{2,6})?", fullmatch=True)))
def test_domains_normalize_or_refuse(value):
    from diagnose.checks.names import DomainSyntaxError, normalize_domain

    try:
        name = normalize_domain(value)
    except DomainSyntaxError as error:
        assert str(error).endswith(".")
        return
    assert name.isascii() and len(name) <= 253


@FAST
@given(
    st.one_of(
        VALUES,
        st.builds("{}@{}".format, st.text(max_size=70), st.text(max_size=30)),
        st.builds("{}@example.com".format, st.text("a.+-_я", min_size=60, max_size=70)),
    )
)
def test_addresses_pass_or_fail_with_a_sentence(value):
    from diagnose.checks.email import check_syntax
    from diagnose.checks.results import Status

    result = check_syntax(value).result
    assert result.status in {Status.PASS, Status.FAIL}
    if result.status is Status.PASS:
        local, _, _ = result.details["email"].rpartition("@")
        assert len(local.encode()) <= 64  # RFC 5321, 4.5.3.1.1


@FAST
@given(VALUES)
def test_nameservers_parse_or_refuse(value):
    from diagnose.checks.dnsquery import parse_nameserver

    try:
        _, port = parse_nameserver(value)
    except DiagnoseError as error:
        assert str(error).endswith(".")
        return
    assert 0 < port < 65536


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        VALUES,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(IDS, children, max_size=4)
    ),
    max_leaves=12,
)
SESSION_LIKE = st.fixed_dictionaries(
    {"diagnose_session": st.sampled_from([1, 2, 3, 0, "2", None, True, 2.0])},
    optional={
        "given": st.one_of(st.dictionaries(IDS, VALUES, max_size=3), JSON),
        "entries": st.one_of(
            st.lists(
                st.tuples(st.sampled_from(["answer", "ticket", "reply", "x"]), IDS, VALUES).map(
                    list
                ),
                max_size=3,
            ),
            JSON,
        ),
        "checks": JSON,
        "lang": JSON,
    },
)
RAW = st.one_of(
    st.binary(max_size=200),
    st.just(b"\xef\xbb\xbf" + b'{"goal": "sign-in"}'),
    st.just(b"[" * 3000 + b"]" * 3000),
    st.just(b'{"goal": ' + b"9" * 5000 + b"}"),
    st.just(b'{"project": "\\ud800"}'),
)


@FAST
@given(
    st.one_of(
        JSON.map(lambda data: json.dumps(data).encode()),
        SESSION_LIKE.map(lambda data: json.dumps(data).encode()),
        RAW,
    ),
    st.sampled_from(["answers.json", "answers.toml", "answers"]),
)
def test_answers_files_and_sessions_load_or_refuse(tmp_path_factory, content, name):
    from diagnose.conversation import sessions
    from diagnose.conversation.answers import load_file, validate

    path = tmp_path_factory.mktemp("answers") / name
    path.write_bytes(content)
    try:
        validate(KB, load_file(path))
    except DiagnoseError as error:
        assert str(error).endswith(".")
    with contextlib.suppress(DiagnoseError):
        sessions.load(path)


# --- knowledge bases --------------------------------------------------------------------


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (surrogates aside)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


KB_TEXT = st.one_of(st.sampled_from(["q", "a", "r", "c1", "yes", "goal", ""]), TEXT)
FIELD_VALUE = st.one_of(
    KB_TEXT,
    st.integers(),
    st.booleans(),
    st.lists(KB_TEXT, max_size=3),
    st.lists(st.fixed_dictionaries({"id": KB_TEXT, "label": KB_TEXT}), max_size=3),
    st.lists(
        st.dictionaries(
            st.sampled_from(["question", "check", "is", "is_not", "x"]),
            st.one_of(KB_TEXT, st.lists(KB_TEXT, max_size=2)),
            max_size=3,
        ),
        max_size=3,
    ),
)
TABLE = st.dictionaries(
    st.sampled_from(
        [
            *("id", "type", "prompt", "choices", "title", "outcome", "summary", "steps"),
            *("article", "rationale", "when", "channel", "name", "address", "hours"),
            *("fallback", "input", "x"),
        ]
    ),
    FIELD_VALUE,
    max_size=6,
)
SECTION = st.sampled_from(["question", "article", "rule", "channel", "check", "ticket_field"])


@SLOW
@given(st.lists(st.tuples(SECTION, TABLE), max_size=8), st.booleans())
def test_generated_knowledge_bases_load_or_list_their_problems(tmp_path_factory, tables, shipped):
    """A knowledge base is valid, or every problem is a sentence naming the file."""
    import shutil

    from diagnose.exceptions import KnowledgeBaseError

    directory = tmp_path_factory.mktemp("kb")
    if shipped:
        shutil.copytree(default_rules_dir(), directory, dirs_exist_ok=True)
    lines = []
    for section, table in tables:
        lines.append(f"[[{section}]]")
        lines += [f"{json.dumps(key)} = {toml_value(value)}" for key, value in table.items()]
    (directory / "zz.toml").write_text("\n".join(lines) + "\n", errors="surrogatepass")
    try:
        load(directory)
    except KnowledgeBaseError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.startswith(str(directory))


# --- the command line -------------------------------------------------------------------

FILES = st.sampled_from(
    ["answers.json", "answers.toml", "session.json", "missing.json", "fifo", "dir", "-", ""]
)
FIELD_IDS = st.sampled_from(["project", "login", "description", "registration-phone"])
ANSWER = st.one_of(
    st.builds("{}={}".format, st.sampled_from([*KB.questions]), st.one_of(WORDS, NASTY)),
    st.builds("{}={}".format, FIELD_IDS, st.one_of(WORDS, NASTY)),
    st.builds("{}={}".format, st.one_of(IDS, FIELD_IDS), VALUES),
    VALUES,  # no "=" at all
)
NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "nan", "inf", "1e999", "0.001", "600", "601", "2", "1" * 400]),
    TEXT,
)
DOMAINS = st.one_of(
    st.sampled_from(
        [
            *("good.lab", "nullmx.lab", "ann@good.lab", "..", "a" * 64 + ".lab", "xn--"),
            *("почта.рф", "127.0.0.1", "[::1]", "localhost", "a" * 65 + "@good.lab", "-", "@", ""),
        ]
    ),
    TEXT,
)
RUN_OPTION = st.one_of(
    st.tuples(st.sampled_from(["-a", "--answer"]), ANSWER),
    st.tuples(st.sampled_from(["--answers", "--resume", "--save", "--ticket"]), FILES),
    st.tuples(st.just("--format"), st.one_of(st.sampled_from(["json", "text"]), TEXT)),
    st.tuples(st.just("--rules"), st.one_of(FILES, TEXT)),
    st.tuples(st.sampled_from(["--no-input", "--explain", "--help"])),
)
# A stray argument ends most runs at click's usage error: rarely, then.
RUN_OPTIONS = st.lists(st.one_of(RUN_OPTION, RUN_OPTION, RUN_OPTION, st.tuples(TEXT)), max_size=7)
MAIL_OPTION = st.one_of(
    st.tuples(st.sampled_from(["--timeout", "--concurrency"]), NUMBERS),
    st.tuples(st.just("--format"), st.one_of(st.sampled_from(["json", "text"]), TEXT)),
    st.tuples(st.just("--from-file"), FILES),
    st.tuples(st.just("--nameserver"), st.one_of(TEXT, st.just("[::1]:99999"))),
    st.tuples(DOMAINS),
)
OTHER_OPTION = st.one_of(
    st.tuples(st.just("--format"), st.one_of(st.sampled_from(["json", "text"]), TEXT)),
    st.tuples(st.just("--rules"), st.one_of(FILES, TEXT)),
    st.tuples(TEXT),
)


def argv(dns: str):
    def flat(head, options):
        return [*head, *(word for option in options for word in option)]

    run = RUN_OPTIONS.map(lambda o: flat(["run"], o))
    # Every lookup goes to the test server (a later --nameserver adds another).
    dns_head = ["--nameserver", dns, "--timeout", "2"]
    mail = st.tuples(st.sampled_from(["mail", "email"]), st.lists(MAIL_OPTION, max_size=5)).map(
        lambda c: flat([c[0], *dns_head], c[1])
    )
    other = st.tuples(
        st.sampled_from(
            [
                *(["articles"], ["questions"], ["kb"], [], ["nope"]),
                *(["kb", "check"], ["kb", "check", "--strict"], ["kb", "graph"], ["kb", "test"]),
                *(["kb", "explain", "lost-2fa"], ["kb", "explain"]),
            ]
        ),
        st.lists(OTHER_OPTION, max_size=3),
    ).map(lambda c: flat(c[0], c[1]))
    return st.one_of(run, run, run, mail, other)


@SLOW
@given(data=st.data())
def test_any_command_line_ends_with_a_known_exit_code_and_no_traceback(
    dns_server, tmp_path_factory, data
):
    args = data.draw(argv(dns_server.address))
    directory = tmp_path_factory.mktemp("run")
    # Paths are typed relative to a directory of its own: --answers FILE, --save FILE
    # and --ticket FILE read and write nothing of anyone's.
    runner = CliRunner()
    with contextlib.chdir(directory):
        Path("answers.json").write_text('{"goal": "sign-in", "project": "x\\ny"}')
        Path("answers.toml").write_text('goal = "sign-in"\nproject = "\\udcff"\n')
        Path("session.json").write_text(
            '{"diagnose_session": 2, "given": {}, "entries": [["answer", "goal", "register"]]}'
        )
        os.mkfifo("fifo")  # nobody writes to it: reading it must not wait
        os.mkdir("dir")
        result = runner.invoke(
            diagnose_cli,
            args,
            input="",
            env={"DIAGNOSE_STATE_DIR": str(directory / "state")},
            prog_name="diagnose",
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the property fails with it
    assert result.exit_code in EXIT_CODES, (args, result.stderr)
    if result.exit_code == 2 and not result.stderr.startswith("Usage:"):  # help: no error
        assert one_line_error(result.stderr), (args, result.stderr)


@pytest.mark.parametrize("value", ["goal=\udcff", "\udcffgoal=sign-in", "project=\ud800"])
def test_invalid_utf8_in_an_argument_is_one_line_and_exit_2(value):
    result = CliRunner().invoke(diagnose_cli, ["run", "--no-input", "-a", value])
    assert result.exit_code == 2
    assert one_line_error(result.stderr)
    assert "not valid text" in result.stderr or "is not an answer" in result.stderr
