"""`diagnose serve`: the API and the page, through the real server (uvicorn in a
subprocess on 127.0.0.1) and its DNS only to the tests' DNS server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webclient import Server, consultation_cases, forms, step_form

from diagnose import i18n
from diagnose.kb.loader import load

NASTY = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def server(dns_server) -> Iterator[Server]:
    web = Server("--nameserver", dns_server.address, "--timeout", "2", "--rate-limit", "0")
    yield web
    web.stop()


CASES = consultation_cases()


def _no_leak(text: str) -> None:
    assert "Traceback" not in text
    assert "/work/" not in text and "site-packages" not in text and ".py" not in text


# --- start-up -----------------------------------------------------------------------------
def test_cli_start_up_imports_no_web_module():
    code = (
        "import sys\n"
        "from diagnose.cli import main\n"
        "for args in (['--version'], ['--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "web = [m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'uvicorn', 'jinja2', 'multipart', 'python_multipart', 'anyio')"
        " or m.startswith('diagnose.web') or m == 'contextvars']\n"
        "print(web)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]")


def test_serve_rejects_a_bad_nameserver_with_one_line(cli):
    result = cli("serve", "--nameserver", "not a server")
    assert result.exit_code == 2
    assert result.stderr.startswith("diagnose: error:")
    assert "Traceback" not in result.stderr


# --- the API ------------------------------------------------------------------------------
def test_api_asks_the_next_question(server):
    reply = server.post_json("/api/v1/consultation", {"answers": {"goal": "sign-in"}})
    assert reply.status == 200
    data = reply.json()
    assert data["done"] is False
    question = data["question"]
    assert question["id"] == "sign-in-problem"
    assert [c["id"] for c in question["choices"]] == ["forgot-password", "lost-2fa", "other"]
    assert question["help"] and question["why"] and question["type"] == "choice"


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(("article", "answers"), CASES, ids=[a for a, _ in CASES])
def test_api_result_is_what_run_prints(server, cli, dns_server, lang, article, answers):
    reply = server.post_json("/api/v1/consultation", {"answers": answers, "lang": lang})
    assert reply.status == 200, reply.text
    data = reply.json()
    assert data["done"] is True
    options = [f"--answer={k}={v}" for k, v in answers.items()]
    printed = cli(
        "--lang", lang, "run", "--format", "json", "--no-input",
        "--nameserver", dns_server.address, "--timeout", "2", *options,
    )  # fmt: skip
    i18n.activate("en")
    assert data["result"] == printed.json()
    assert data["result"]["article"] == article


def test_api_runs_the_live_check_as_run_does(server, cli, dns_server):
    answers = {
        "goal": "contact-support",
        "support-need": "letters-missing",
        "support-email": "someone@good.lab",
    }
    data = server.post_json("/api/v1/consultation", {"answers": answers}).json()
    printed = cli(
        "run", "--format", "json", "--no-input", "--nameserver", dns_server.address,
        "--timeout", "2", *[f"--answer={k}={v}" for k, v in answers.items()],
    )  # fmt: skip
    assert data["done"] is True
    assert data["result"] == printed.json()
    assert [c["id"] for c in data["result"]["checks"]] == ["email-address", "mail-domain"]


def test_api_mail_and_email_are_the_cli_json(server, cli, dns_server):
    mail = server.post_json("/api/v1/mail", {"domain": "good.lab"})
    assert mail.status == 200
    printed = cli("mail", "--format", "json", "--nameserver", dns_server.address, "good.lab")
    assert mail.json() == json.loads(printed.stdout)
    email = server.post_json("/api/v1/email", {"address": "Someone@good.lab"})
    printed = cli(
        "email", "--format", "json", "--nameserver", dns_server.address, "Someone@good.lab"
    )
    assert email.status == 200
    assert email.json() == json.loads(printed.stdout)


def test_api_mail_and_email_in_russian_are_the_cli_json(server, cli, dns_server):
    # The server's own language is English: the body's "lang" alone makes these Russian.
    mail = server.post_json("/api/v1/mail", {"domain": "nullmx.lab", "lang": "ru"})
    printed = cli(
        "--lang", "ru", "mail", "--format", "json", "--nameserver", dns_server.address, "nullmx.lab"
    )  # fmt: skip
    i18n.activate("en")
    assert mail.status == 200 and mail.json() == json.loads(printed.stdout)
    assert mail.json()["lang"] == "ru" and mail.json()["verdict"].startswith("nullmx.lab не ")
    email = server.post_json("/api/v1/email", {"address": "a..b@good.lab", "lang": "ru"})
    assert email.status == 200 and email.json()["lang"] == "ru"
    assert email.json()["status"] == "fail" and "точ" in email.json()["verdict"]
    english = server.post_json("/api/v1/mail", {"domain": "nullmx.lab"}).json()
    assert english["lang"] == "en" and "cannot receive mail" in english["verdict"]


def test_api_lists_articles_and_questions_as_the_cli(server, cli):
    assert server.get("/api/v1/articles").json() == cli("articles", "--format", "json").json()
    assert server.get("/api/v1/questions").json() == cli("questions", "--format", "json").json()
    russian = server.get("/api/v1/articles?lang=ru").json()
    assert russian == cli("--lang", "ru", "articles", "--format", "json").json()
    i18n.activate("en")
    assert russian != server.get("/api/v1/articles").json()


def test_openapi_and_healthz(server):
    document = server.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/consultation", "/api/v1/mail", "/api/v1/email"} <= set(document["paths"])
    health = server.get("/healthz")
    assert health.status == 200 and health.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"{not json", "The request body is not valid JSON."),
        (b"[1, 2]", "The request body must be a JSON object."),
        (
            json.dumps({"answers": {"goal": "fly"}}).encode(),
            "'fly' is not an answer to 'goal'; legal values: sign-in,",
        ),
        (json.dumps({"answers": {"nope": "x"}}).encode(), "There is no question 'nope'"),
        (json.dumps({"answers": {"goal": ["x"]}}).encode(), "The answer to 'goal' is not text"),
        (json.dumps({"answers": [], "lang": "en"}).encode(), "'answers' must be an object"),
        (json.dumps({"lang": "de"}).encode(), "'lang' must be one of: en, ru."),
        (b"[" * 30_000 + b"]" * 30_000, "The request body is not valid JSON."),
        (b"\xff\xfe", "The request body is not valid JSON."),
    ],
)
def test_api_bad_input_is_400_with_the_sentence(server, body, sentence):
    reply = server.post_json("/api/v1/consultation", body)
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert sentence in reply.json()["error"]
    _no_leak(reply.text)


def test_api_error_sentence_is_the_clis(server, cli):
    reply = server.post_json("/api/v1/consultation", {"answers": {"goal": "fly"}})
    printed = cli("run", "--no-input", "--answer", "goal=fly")
    assert printed.stderr.strip() == f"diagnose: error: {reply.json()['error']}"


def test_bodies_over_64_kb_are_413(server):
    big = json.dumps({"answers": {"goal": "x" * 70_000}}).encode()
    reply = server.post_json("/api/v1/consultation", big)
    assert reply.status == 413
    assert "64 KB" in reply.json()["error"]
    page = server.post_form("/", {"state": "x" * 70_000})
    assert page.status == 413


def test_unknown_addresses_and_methods_are_json_errors(server):
    missing = server.get("/api/v1/nothing")
    assert missing.status == 404 and missing.json() == {"error": "There is no such page."}
    wrong = server.get("/api/v1/consultation")
    assert wrong.status == 405 and "error" in wrong.json()
    page = server.get("/nothing")
    assert page.status == 404 and "<html" in page.text
    _no_leak(page.text)


def test_live_checks_are_limited_per_client(dns_server):
    web = Server("--nameserver", dns_server.address, "--timeout", "2", "--rate-limit", "2")
    try:
        first = web.post_json("/api/v1/mail", {"domain": "good.lab"})
        second = web.post_json("/api/v1/email", {"address": "a@good.lab"})
        third = web.post_json("/api/v1/mail", {"domain": "good.lab"})
        listed = web.get("/api/v1/articles")  # no live check: not limited
        page = web.get(
            "/?goal=contact-support&support-need=letters-missing&support-email=a@good.lab"
        )
    finally:
        web.stop()
    assert (first.status, second.status, third.status, listed.status) == (200, 200, 429, 200)
    assert "at most 2 a minute" in third.json()["error"]
    assert page.status == 429 and "at most 2 a minute" in page.text


# --- the page -----------------------------------------------------------------------------
def test_a_deep_link_shows_the_step_its_answers_reach(server):
    reply = server.get("/?goal=sign-in")
    assert reply.status == 200
    form = step_form(reply.text)
    assert form.fields["at"] == "question:sign-in-problem:2"
    assert form.radios == ["forgot-password", "lost-2fa", "other"]
    article = server.get("/?goal=sign-in&sign-in-problem=forgot-password")
    assert "<h1>Recovering a forgotten password</h1>" in article.text
    assert "Did this solve it?" in article.text


def test_a_deep_link_with_a_wrong_answer_says_so(server):
    reply = server.get("/?goal=fly")
    assert reply.status == 400
    assert "is not an answer to &#39;goal&#39;" in reply.text
    _no_leak(reply.text)


def _consult(server: Server, lang: str, answers: dict[str, str]) -> str:
    """Walk the page as a person without JavaScript: start, answer each question the
    page asks from ``answers``, say the article helped, skip every ticket field, keep
    the draft. Returns the last page."""
    reply = server.get(f"/?lang={lang}")
    for _ in range(20):
        assert reply.status == 200, reply.text
        at = step_form(reply.text).fields["at"]
        if at.startswith("question:"):
            question = at.split(":")[1]
            reply = server.submit(reply.text, "answer", answers[question])
        elif at == "confirm":
            reply = server.submit(reply.text, "say:yes")
        elif at.startswith("field:"):
            reply = server.submit(reply.text, "say:unknown")
        elif at == "review":
            reply = server.submit(reply.text, "say:ok")
        else:
            assert at == "done"
            return reply.text
    raise AssertionError("the consultation did not end")


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(("article", "answers"), CASES, ids=[a for a, _ in CASES])
def test_a_consultation_without_javascript_reaches_every_article(server, lang, article, answers):
    html = _consult(server, lang, answers)
    kb = load(lang=lang)
    title = kb.articles[article].title
    assert f"<h1>{_escaped(title)}</h1>" in html
    assert f'<html lang="{lang}">' in html
    for channel in kb.channels:
        assert _escaped(channel.hours) in html  # the support channels with their hours
    assert "<details" in html  # the explanation, folded


def _escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_language_from_query_then_cookie_then_accept_language(server):
    assert '<html lang="ru">' in server.get("/?goal=sign-in&lang=ru").text
    chosen = server.get("/?lang=ru")
    assert "lang=ru" in chosen.headers["set-cookie"]
    assert "httponly" in chosen.headers["set-cookie"].lower()
    by_cookie = server.get("/", {"cookie": "lang=ru", "accept-language": "en"})
    assert '<html lang="ru">' in by_cookie.text
    by_header = server.get("/", {"accept-language": "de-DE, ru;q=0.8, en;q=0.5"})
    assert '<html lang="ru">' in by_header.text and "Вопрос 1" in by_header.text
    assert "Что вы хотите сделать?" in by_header.text
    assert '<html lang="en">' in server.get("/", {"accept-language": "de"}).text


def test_a_russian_page_shows_the_mail_checks_findings_in_russian(server):
    link = "/?goal=contact-support&support-need=letters-missing&support-email=someone@nomx.lab"
    russian = server.get(link + "&lang=ru").text
    assert "Домена nomx.lab нет в DNS (NXDOMAIN)." in russian
    assert "nomx.lab не может принимать почту: такого домена не существует." in russian
    assert "Пропущено: домен не существует." in russian and "Skipped" not in russian
    healthy = server.get(link.replace("nomx.lab", "good.lab") + "&lang=ru").text
    assert "good.lab может принимать почту" in healthy
    assert "--smtp" not in healthy and "--dkim-selector" not in healthy  # CLI-only options
    english = server.get(link + "&lang=en").text
    assert "nomx.lab cannot receive mail: the domain does not exist" in english


def test_concurrent_requests_each_get_their_own_language(server):
    """The language is bound to each request, not to the process: many consultations
    at once in both languages, each with a live check whose finding is translated in a
    worker thread, never get each other's words."""
    from concurrent.futures import ThreadPoolExecutor

    link = (
        "/?goal=register&register-problem=phone-rejected"
        "&registration-phone=%2B44+20+7946+0958&lang={lang}"
    )
    expected = {
        "en": ("Did this answer your question?", "not +7; it cannot be registered"),
        "ru": ("Это ответ на ваш вопрос?", "а не +7; зарегистрировать его"),
    }

    def fetch(index: int) -> tuple[str, str]:
        lang = "ru" if index % 2 else "en"
        return lang, server.get(link.format(lang=lang)).text

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(fetch, range(64)))
    for lang, html in replies:
        other = "en" if lang == "ru" else "ru"
        assert f'<html lang="{lang}">' in html
        for words in expected[lang]:
            assert _escaped(words) in html, (lang, words)
        for words in expected[other]:
            assert _escaped(words) not in html, (lang, words)


def test_the_language_switch_keeps_the_consultation(server):
    english = server.get("/?goal=sign-in")
    switch = next(f for f in forms(english.text) if "languages" in f.css)
    assert [value for _, value, _ in switch.buttons] == ["en", "ru"]
    russian = server.post_form("/", {**switch.fields, "lang": "ru"})
    assert '<html lang="ru">' in russian.text
    assert step_form(russian.text).fields["at"] == "question:sign-in-problem:2"
    assert "Вопрос 2" in russian.text


def test_back_and_i_dont_know(server):
    first = server.get("/?goal=sign-in")
    back = server.submit(first.text, "back")
    assert step_form(back.text).fields["at"] == "question:goal:1"
    unknown = server.submit(back.text, "say:unknown")
    assert "<h1>" in unknown.text  # "I don't know" reaches a conclusion


def test_an_empty_answer_is_asked_again_in_words(server):
    first = server.get("/?goal=sign-in")
    again = server.submit(first.text, "answer", "")
    assert again.status == 400
    assert "Please choose an answer." in again.text
    assert step_form(again.text).fields["at"] == "question:sign-in-problem:2"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_failed_check_is_told_in_words_and_the_address_can_be_corrected(server, lang):
    link = "/?goal=contact-support&support-need=letters-missing&support-email=a%40nullmx.lab"
    failed = server.get(f"{link}&lang={lang}")
    assert step_form(failed.text).fields["at"] == "confirm"
    words = {"en": ("problem found", "Or type the corrected email address"),
             "ru": ("найдена проблема", "Или введите исправленный")}[lang]  # fmt: skip
    for text in words:
        assert text in failed.text
    assert "nullmx.lab" in failed.text
    corrected = server.submit(failed.text, "answer", "someone@good.lab")
    assert step_form(corrected.text).fields["at"] == "confirm"
    assert "good.lab" in corrected.text and words[1] not in corrected.text
    state = json.loads(step_form(corrected.text).fields["state"])
    assert ["answer", "support-email", "someone@good.lab"] in state["entries"]


def test_a_stale_form_is_not_applied_to_another_step(server):
    first = server.get("/?goal=sign-in")
    stale = server.submit(first.text, "answer", "forgot-password", at="question:goal:1")
    assert step_form(stale.text).fields["at"] == "question:sign-in-problem:2"


def test_an_escalation_asks_the_ticket_fields_refuses_secrets_and_offers_the_draft(server):
    reply = server.get("/?goal=sign-in&sign-in-problem=lost-2fa")
    assert "Lost two-factor authentication app" in reply.text
    assert step_form(reply.text).fields["at"] == "field:login"
    reply = server.submit(reply.text, "answer", "me@example.com")
    assert step_form(reply.text).fields["at"] == "field:project"
    refused = server.submit(reply.text, "answer", "my password is hunter2")
    assert refused.status == 400
    assert "password" in refused.text.lower()
    assert "hunter2" not in step_form(refused.text).fields["state"]
    reply = server.submit(refused.text, "answer", "web-shop")
    reply = server.submit(reply.text, "answer", "phone-lost")
    reply = server.submit(reply.text, "answer", "The phone fell into the sea.")
    assert step_form(reply.text).fields["at"] == "review"
    assert "web-shop" in reply.text
    change = server.submit(reply.text, "say:project")
    assert step_form(change.text).fields["at"] == "field:project"
    assert 'value="web-shop"' in change.text
    reply = server.submit(change.text, "answer", "shop-2")
    done = server.submit(reply.text, "say:ok")
    assert step_form(done.text).fields["at"] == "done"
    assert "shop-2" in done.text and 'href="mailto:' in done.text
    state = step_form(done.text).fields
    markdown = server.post_form("/download", {"state": state["state"], "format": "md"})
    assert markdown.status == 200
    assert "attachment" in markdown.headers["content-disposition"]
    assert "shop-2" in markdown.text and markdown.text.startswith("# ")
    as_json = server.post_form("/download", {"state": state["state"], "format": "json"})
    assert json.loads(as_json.text)["project"] == "shop-2"


def test_a_forged_state_is_refused_without_a_traceback(server):
    forged = json.dumps(
        {"diagnose_session": 2, "entries": [["ticket", "description", "password: hunter2"]]}
    )
    deep = "[" * 7_000 + "]" * 7_000  # under 64 KB once form-encoded
    for state in ("{", "[]", '{"diagnose_session": 9}', forged, deep):
        reply = server.post_form("/", {"state": state, "action": "answer", "at": "x"})
        assert reply.status == 400
        _no_leak(reply.text)
        assert "hunter2" not in reply.text


# --- safe ---------------------------------------------------------------------------------
def test_every_response_has_the_security_headers(server):
    for reply in (
        server.get("/"),
        server.get("/static/style.css"),
        server.get("/api/v1/articles"),
        server.get("/nothing"),
    ):
        csp = reply.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"


def test_pages_hold_no_inline_script_or_style(server):
    for html in (server.get("/").text, server.get("/?goal=sign-in&sign-in-problem=lost-2fa").text):
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
        assert (
            "<style" not in html
            and " style=" not in html
            and " on" not in html.replace(" one", "").replace(" only", "").replace(" on ", "")
        )


def _raw_markup_absent(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert" not in html or "&lt;img" in html


def test_user_text_is_escaped_in_every_query_parameter(server):
    import urllib.parse

    for query in (
        {"goal": NASTY},
        {NASTY: "x"},
        {"lang": NASTY},
        {"goal": "sign-in", "sign-in-problem": "lost-2fa", "login": NASTY},
        {"goal": "contact-support", "support-need": "letters-missing", "support-email": NASTY},
    ):
        reply = server.get("/?" + urllib.parse.urlencode(query))
        _raw_markup_absent(reply.text)
        _no_leak(reply.text)


def test_user_text_is_escaped_in_every_field(server):
    reply = server.get("/?goal=sign-in&sign-in-problem=lost-2fa")
    for _ in range(6):
        at = step_form(reply.text).fields["at"]
        if at == "review":
            break
        reply = server.submit(reply.text, "answer", NASTY)
        _raw_markup_absent(reply.text)
        if reply.status == 400:  # a choice field: NASTY is no answer there
            assert "&lt;script&gt;" in reply.text
            reply = server.submit(reply.text, "say:unknown")
    assert step_form(reply.text).fields["at"] == "review"
    assert reply.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    done = server.submit(reply.text, "say:ok")
    _raw_markup_absent(done.text)
    for field in ("at", "lang", "action", "format"):
        posted = server.post_form("/", {"state": "", field: NASTY, "action": "answer"})
        _raw_markup_absent(posted.text)
        _no_leak(posted.text)
    api = server.post_json("/api/v1/consultation", {"answers": {"goal": NASTY}})
    assert api.headers["content-type"].startswith("application/json")


def test_several_workers_answer_any_step_of_a_consultation(dns_server):
    """Stateless: with two worker processes, each request of a consultation may go to
    either, and the settings (here the rate limit) reach both."""
    web = Server("--nameserver", dns_server.address, "--workers", "2", "--rate-limit", "1")
    try:
        html = web.get("/?goal=sign-in").text
        for _ in range(3):
            html = web.submit(html, "back").text
            html = web.submit(html, "answer", "sign-in").text
        done = web.submit(web.submit(html, "answer", "forgot-password").text, "say:yes")
        limited = [web.post_json("/api/v1/mail", {"domain": "good.lab"}).status for _ in range(3)]
    finally:
        web.stop()
    assert step_form(done.text).fields["at"] == "done"
    assert 429 in limited


def test_the_access_log_records_no_answers(dns_server):
    web = Server("--nameserver", dns_server.address, "--timeout", "2")
    try:
        web.get("/?goal=sign-in&sign-in-problem=lost-2fa&login=secret-login%40example.com")
        reply = web.get("/?goal=sign-in&sign-in-problem=lost-2fa")
        web.submit(reply.text, "answer", "another-login@example.com")
        web.post_json("/api/v1/consultation", {"answers": {"goal": "sign-in"}})
    finally:
        log = web.stop()
    assert '"GET /" 200' in log and '"POST /" 200' in log
    assert '"POST /api/v1/consultation" 200' in log
    for answer in ("sign-in", "lost-2fa", "secret-login", "another-login"):
        assert answer not in log


# --- parsers of user input ------------------------------------------------------------------
@given(st.text(max_size=200))
def test_accept_language_never_fails(header):
    assert i18n.from_accept_language(header) in {None, *i18n.LANGUAGES}


@given(
    st.lists(
        st.tuples(st.sampled_from(["en", "ru", "de", "fr-CA", "ru-RU", "*"]), st.floats(0, 1)),
        min_size=1,
        max_size=6,
    )
)
def test_accept_language_picks_the_highest_weight(items):
    header = ", ".join(f"{tag};q={q:.3f}" for tag, q in items)
    spoken = [
        (round(q, 3), -i, i18n.normalize(tag))
        for i, (tag, q) in enumerate(items)
        if i18n.normalize(tag) and round(q, 3) > 0
    ]
    expected = max(spoken)[2] if spoken else None
    assert i18n.from_accept_language(header) == expected
