"""The web application: the consultation page and the HTTP API (``/api/v1/``).

Every request carries the whole consultation: the page in a hidden form field (the
state's JSON), the API as the answers so far. The handlers turn it into a ``State``,
ask the core's ``Conversation`` for the next step, run a live check when that step is
one, and render what comes next: there is no flow here, and no session on the server.

Languages: each request is answered in its own language (``?lang=``, then the
``lang`` cookie, then Accept-Language, then English) under ``i18n.speaking``, which
binds it to the request's context only; the knowledge base is loaded once per language.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from diagnose import __version__, i18n
from diagnose.checks.registry import CHECKS_BY_ID
from diagnose.checks.results import CheckResult
from diagnose.conversation import answers as answer_io
from diagnose.conversation.machine import Conversation
from diagnose.conversation.reasoning import Recommendation
from diagnose.conversation.state import State, StateError
from diagnose.conversation.steps import Ask, AskField, Confirm, Done, Measure, Step
from diagnose.exceptions import DiagnoseError
from diagnose.i18n import N_, _
from diagnose.kb.model import KnowledgeBase
from diagnose.web.guard import Guard, Limiter, TooManyChecks
from diagnose.web.words import status_word, words

if TYPE_CHECKING:
    from diagnose.checks.email import EmailReport
    from diagnose.checks.mail.report import DomainReport

HERE = Path(__file__).parent
ENV_SETTINGS = "DIAGNOSE_WEB_SETTINGS"
COOKIE = "lang"


@dataclass(frozen=True)
class Settings:
    """What ``diagnose serve`` was told; passed to each worker through the environment
    (uvicorn starts workers by importing the app factory)."""

    nameservers: tuple[str, ...] = ()
    timeout: float = 5.0
    rate_limit: int = 30  # live checks per client address a minute; 0: no limit
    max_checks: int = 32  # live checks running at once in one worker
    rules_dir: str | None = None

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(ENV_SETTINGS)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["nameservers"] = tuple(data.get("nameservers", ()))
        return cls(**data)


class BadRequest(Exception):
    """Input the server cannot use; the message is the sentence to show."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Site:
    """The knowledge base and conversations of each language, and the live-check bounds."""

    def __init__(self, settings: Settings) -> None:
        from diagnose.commands.options import dns_settings
        from diagnose.engine import engine_for
        from diagnose.kb.loader import load

        self.settings = settings
        self.dns = dns_settings(settings.nameservers, settings.timeout)
        self.kbs: dict[str, KnowledgeBase] = {}
        self.pages: dict[str, Conversation] = {}  # conversing: confirm, ticket, review
        self.scripted: dict[str, Conversation] = {}  # the API: as `run --no-input`
        for lang in i18n.LANGUAGES:
            with i18n.speaking(lang):
                kb = load(settings.rules_dir, lang=lang)
            engine = engine_for(kb)
            self.kbs[lang] = kb
            self.pages[lang] = Conversation(kb, engine, dns=self.dns, converse=True)
            self.scripted[lang] = Conversation(kb, engine, dns=self.dns, converse=False)
        self.limiter = Limiter(settings.rate_limit, settings.max_checks)
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    async def settle(
        self, conversation: Conversation, state: State, client: str
    ) -> tuple[State, Step]:
        """The next step that needs a person (or the end), running the live checks on
        the way; TooManyChecks when a check is beyond the bounds."""
        while True:
            step = conversation.next(state)
            if not isinstance(step, Measure):
                return state, step
            result = await self.measure(conversation, step, client)
            state = state.measured(step.check, step.value, result)

    async def measure(self, conversation: Conversation, step: Measure, client: str) -> CheckResult:
        self.limiter.acquire(client)
        try:
            # A check blocks (it runs its own event loop); a worker thread keeps this
            # loop serving other requests meanwhile. The thread inherits the request's
            # context, so its messages come in the request's language.
            return await run_in_threadpool(conversation.measure, step)
        finally:
            self.limiter.release()


# --- the language of a request --------------------------------------------------------
def language(request: Request, explicit: str | None = None) -> tuple[str, bool]:
    """The request's language, and whether it was chosen now (then it goes in a cookie)."""
    chosen = i18n.normalize(explicit)
    if chosen is not None:
        return chosen, True
    cookie = i18n.normalize(request.cookies.get(COOKIE))
    if cookie is not None:
        return cookie, False
    header = i18n.from_accept_language(request.headers.get("accept-language", ""))
    return header or i18n.DEFAULT, False


def error_language(request: Request) -> str:
    """The language of an API error told before (or without) the body's ``lang``:
    ``?lang=``, then the cookie, then Accept-Language, as for a page."""
    return language(request, request.query_params.get("lang"))[0]


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


# --- the state that travels with the page -----------------------------------------------
def load_state(raw: str, kb: KnowledgeBase, lang: str) -> State:
    """The posted state, checked as a saved session is: every answer and ticket value
    is validated again (a forged one is refused, and a secret never gets in)."""
    if not raw:
        return State(lang=lang)
    try:
        state = State.from_json(json.loads(raw))
    except RecursionError:  # a state nested thousands deep: no state at all
        raise BadRequest(
            _("The consultation's state is not valid: {error}").format(
                error=_("too deeply nested.")
            )
        ) from None
    except (ValueError, StateError) as error:
        message = _("The consultation's state is not valid: {error}").format(error=error)
        raise BadRequest(message) from None
    answer_io.validate(kb, state.given)
    answer_io.validate(kb, {e.id: e.value for e in state.entries if e.kind != "reply" and e.value})
    return State(given=state.given, entries=state.entries, checks=state.checks, lang=lang)


def linked_state(query: Mapping[str, str], kb: KnowledgeBase, lang: str) -> State:
    """The state a deep link's answers reach (``?goal=sign-in&...``): the questions as
    answers typed in the link's order, so Back can change them; ticket fields as given."""
    given = answer_io.validate(kb, {k: v for k, v in query.items() if k != "lang"})
    state = State(lang=lang)
    fields: dict[str, str] = {}
    for key, value in given.items():
        if key in kb.questions:
            state = state.add("answer", key, value)
        else:
            fields[key] = value
    return State(given=fields, entries=state.entries, lang=lang)


def _token(step: Step) -> str:
    """Which step a form answered: a reply sent from a page that is no longer current
    (a second click, a stale tab) is not applied to another step."""
    if isinstance(step, Ask):
        return f"question:{step.question.id}:{step.number}"
    if isinstance(step, AskField):
        return f"field:{step.field.id}"
    return step.kind


# --- the page ---------------------------------------------------------------------------
async def page(request: Request) -> Response:
    site: Site = request.app.state.site
    if request.method == "GET":
        lang, chosen = language(request, request.query_params.get("lang"))
        with i18n.speaking(lang):
            kb = site.kbs[lang]
            try:
                state = linked_state(request.query_params, kb, lang)
            except DiagnoseError as error:
                return _page_error(site, lang, chosen, str(error), 400)
            return await _show(site, request, lang, chosen, state)
    form = await request.form(max_files=0, max_fields=64)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    lang, chosen = language(request, fields.get("lang"))
    with i18n.speaking(lang):
        kb = site.kbs[lang]
        conversation = site.pages[lang]
        try:
            state = load_state(fields.get("state", ""), kb, lang)
        except (BadRequest, DiagnoseError) as error:
            return _page_error(site, lang, chosen, str(error), 400)
        action = fields.get("action", "")
        if action == "back":
            return await _show(site, request, lang, chosen, state.back())
        if action == "restart":
            return await _show(site, request, lang, chosen, State(lang=lang))
        if action != "answer" and not action.startswith("say:"):
            return await _show(site, request, lang, chosen, state)  # the language switch
        try:
            state, step = await site.settle(conversation, state, _client(request))
        except TooManyChecks as error:
            return _render(site, lang, chosen, state, None, str(error), 429)
        if fields.get("at") != _token(step):
            return _render(site, lang, chosen, state, step)
        text = action.removeprefix("say:") if action != "answer" else fields.get("answer", "")
        try:
            state = conversation.answer(state, step, text)
        except DiagnoseError as error:  # AnswerError, SecretRefused: the sentence to show
            return _render(site, lang, chosen, state, step, _answer_error(step, text, error), 400)
        return await _show(site, request, lang, chosen, state)


def _answer_error(step: Step, text: str, error: Exception) -> str:
    # Nothing chosen or typed: say so in words for a page (the parser's sentence
    # names ids and values, right for a script).
    if not text.strip() and isinstance(step, Ask):
        if step.question.choices or str(step.question.type) == "yesno":
            return _("Please choose an answer.")
        return _("Please type an answer, or choose “I don't know”.")
    return str(error)


async def _show(site: Site, request: Request, lang: str, chosen: bool, state: State) -> Response:
    try:
        state, step = await site.settle(site.pages[lang], state, _client(request))
    except TooManyChecks as error:
        return _render(site, lang, chosen, state, None, str(error), 429)
    return _render(site, lang, chosen, state, step)


async def download(request: Request) -> Response:
    """The ticket draft as a file (Markdown or JSON), from the state of the page."""
    from diagnose.conversation import ticket as tickets

    site: Site = request.app.state.site
    form = await request.form(max_files=0, max_fields=64)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    lang, _chosen = language(request, fields.get("lang"))
    with i18n.speaking(lang):
        try:
            state = load_state(fields.get("state", ""), site.kbs[lang], lang)
            state, step = await site.settle(site.pages[lang], state, _client(request))
        except (BadRequest, DiagnoseError) as error:
            return _page_error(site, lang, False, str(error), 400)
        except TooManyChecks as error:
            return _page_error(site, lang, False, str(error), 429)
        rec: Recommendation | None = getattr(step, "recommendation", None)
        ticket = rec.ticket if rec is not None else None
        if ticket is None:
            return _page_error(site, lang, False, _("This consultation has no ticket draft."), 400)
        name = "ticket.json" if fields.get("format") == "json" else "ticket.md"
        body = tickets.render(ticket, Path(name))
    media = "application/json" if name.endswith(".json") else "text/markdown"
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


def _render(
    site: Site,
    lang: str,
    chosen: bool,
    state: State,
    step: Step | None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    kb = site.kbs[lang]
    rec: Recommendation | None = getattr(step, "recommendation", None)
    context: dict[str, Any] = {
        "lang": lang,
        "w": words(),
        "state": json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":")),
        "step": step,
        "kind": step.kind if step is not None else "retry",
        "at": _token(step) if step is not None else "",
        "error": error,
        "rec": rec,
        "can_back": state.can_go_back,
        "checks": _checks(rec.checks if rec else tuple(r for _c, _v, r in state.checks)),
        "channels": kb.channels,
    }
    if isinstance(step, Ask):
        context["why"] = _why(kb, step)
    if isinstance(step, Confirm):
        context["prompt"] = _(step.prompt)
        if step.correctable is not None:
            from diagnose.render.terminal import CORRECTED

            what = CORRECTED.get(step.correctable.type, str(step.correctable.type))
            context["correct"] = words()["correct"].format(what=_(what))
    if isinstance(step, AskField):
        context["value"] = step.current if step.current is not None else ""
    if rec is not None and rec.ticket is not None:
        from diagnose.conversation import ticket as tickets

        context["ticket"] = rec.ticket
        context["mailto"] = tickets.mailto(rec.ticket)
    html = site.templates.get_template("page.html").render(context)
    return _html(html, status, lang, chosen)


def _page_error(site: Site, lang: str, chosen: bool, message: str, status: int) -> HTMLResponse:
    html = site.templates.get_template("error.html").render(
        {"lang": lang, "w": words(), "error": message}
    )
    return _html(html, status, lang, chosen)


def _html(html: str, status: int, lang: str, chosen: bool) -> HTMLResponse:
    response = HTMLResponse(html, status, headers={"cache-control": "no-store"})
    if chosen:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def _checks(results: tuple[CheckResult, ...]) -> list[dict[str, Any]]:
    """Live checks' findings in words: what was checked, the status, the finding."""
    rows: list[dict[str, Any]] = []
    for result in results:
        spec = CHECKS_BY_ID.get(result.id)
        rows.append(
            {
                "what": _(spec.description) if spec else result.id,
                "status": str(result.status),
                "word": status_word(result.status),
                "message": result.message,
                "subs": [
                    {
                        "id": str(sub.get("id", "")),
                        "status": str(sub.get("status", "")),
                        "message": str(sub.get("message", "")),
                    }
                    for sub in result.subchecks()
                ],
            }
        )
    return rows


def _why(kb: KnowledgeBase, step: Ask) -> str:
    # As the terminal's "why": the question's own reason, the live check, and the
    # conclusions the answer decides between.
    lines = [step.question.why] if step.question.why else []
    if step.check:
        lines.append(_("Your answer is checked live, so you do not have to check it yourself."))
    titles: list[str] = []
    for rule in step.waiting:
        title = kb.articles[rule.article].title
        if title not in titles:
            titles.append(title)
    if titles:
        lines.append(_("It decides between: {titles}.").format(titles="; ".join(titles)))
    return "\n".join(lines)


# --- the API ----------------------------------------------------------------------------
async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[...
        with i18n.speaking(error_language(request)):
            raise BadRequest(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        with i18n.speaking(error_language(request)):
            raise BadRequest(_("The request body must be a JSON object."))
    return data


def _api_language(request: Request, data: Mapping[str, Any]) -> str:
    lang = data.get("lang", i18n.DEFAULT)
    if lang not in i18n.LANGUAGES:
        with i18n.speaking(error_language(request)):
            raise BadRequest(
                _("'lang' must be one of: {languages}.").format(languages=", ".join(i18n.LANGUAGES))
            )
    return str(lang)


async def api_consultation(request: Request) -> Response:
    site: Site = request.app.state.site
    data = await _json_body(request)
    lang = _api_language(request, data)
    raw = data.get("answers", {})
    with i18n.speaking(lang):
        if not isinstance(raw, dict):
            raise BadRequest(_("'answers' must be an object of question ids to answers."))
        given: dict[str, str] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise BadRequest(
                    _("The answer to '{id}' is not text: {value}.").format(
                        id=key, value=repr(value)
                    )
                )
            given[str(key)] = str(value)
        conversation = site.scripted[lang]
        state = State(given=answer_io.validate(site.kbs[lang], given), lang=lang)
        state, step = await site.settle(conversation, state, _client(request))
        if isinstance(step, Ask):
            return JSONResponse({"done": False, "question": step.to_dict()})
        if not isinstance(step, Done):  # a scripted conversation confirms and asks no field
            raise RuntimeError(f"a scripted consultation reached {step.kind}")
        return _json_response({"done": True, "result": step.recommendation.to_dict()})


async def api_mail(request: Request) -> Response:
    from diagnose.checks.mail import check_domain_async

    data = await _json_body(request)
    domain = _required(
        request, data, "domain", N_("Give the domain to check as {example}."), "example.com"
    )
    lang = _api_language(request, data)
    return await _live(request, lang, lambda site: check_domain_async(domain, site.dns))


async def api_email(request: Request) -> Response:
    from diagnose.checks.email import check_email_async

    data = await _json_body(request)
    address = _required(
        request, data, "address", N_("Give the address to check as {example}."), "name@example.com"
    )
    lang = _api_language(request, data)
    return await _live(request, lang, lambda site: check_email_async(address, site.dns))


def _required(
    request: Request, data: Mapping[str, Any], key: str, missing: str, example: str
) -> str:
    """The body's ``key``, a non-blank string; else a 400 whose sentence (``missing``,
    marked with N_) shows a body that would do."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        with i18n.speaking(error_language(request)):
            raise BadRequest(_(missing).format(example=json.dumps({key: example})))
    return value.strip()


async def _live(
    request: Request, lang: str, check: Callable[[Site], Awaitable[DomainReport | EmailReport]]
) -> Response:
    """A live check's report in the body's language (its messages are made as it runs)."""
    site: Site = request.app.state.site
    with i18n.speaking(error_language(request)):
        site.limiter.acquire(_client(request))  # TooManyChecks, told in that language
    try:
        with i18n.speaking(lang):
            report = await check(site)
            return _json_response(report.to_dict())
    finally:
        site.limiter.release()


async def api_articles(request: Request) -> Response:
    from diagnose.commands.listing import article_rows

    site: Site = request.app.state.site
    lang = _api_language(request, request.query_params)
    return _json_response(article_rows(site.kbs[lang]))


async def api_questions(request: Request) -> Response:
    from diagnose.commands.listing import question_rows

    site: Site = request.app.state.site
    lang = _api_language(request, request.query_params)
    return _json_response(question_rows(site.kbs[lang]))


async def api_openapi(request: Request) -> Response:
    from diagnose.web.openapi import document

    return JSONResponse(document(__version__))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


def _json_response(data: object, status: int = 200) -> Response:
    # As the CLI prints it: UTF-8 as is (ensure_ascii=False).
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status, media_type="application/json")


# --- errors -----------------------------------------------------------------------------
def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _on_bad_request(request: Request, error: Exception) -> Response:
    status = error.status if isinstance(error, BadRequest) else 400
    if isinstance(error, TooManyChecks):
        status = 429
    return _json_response({"error": str(error)}, status)


async def _on_http(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        message = N_("There is no such page.")
    elif error.status_code == 405:
        message = N_("This address does not accept that method.")
    else:
        message = str(error.detail)
    if _is_api(request) or request.url.path == "/healthz":
        with i18n.speaking(error_language(request)):
            return _json_response({"error": _(message)}, error.status_code)
    site: Site = request.app.state.site
    lang, chosen = language(request)
    with i18n.speaking(lang):
        return _page_error(site, lang, chosen, _(message), error.status_code)


def create_app(settings: Settings | None = None) -> Starlette:
    """The application; uvicorn calls this in each worker (``factory=True``)."""
    site = Site(settings or Settings.from_env())
    app = Starlette(
        routes=[
            Route("/", page, methods=["GET", "POST"]),
            Route("/download", download, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/api/v1/consultation", api_consultation, methods=["POST"]),
            Route("/api/v1/mail", api_mail, methods=["POST"]),
            Route("/api/v1/email", api_email, methods=["POST"]),
            Route("/api/v1/articles", api_articles),
            Route("/api/v1/questions", api_questions),
            Route("/api/v1/openapi.json", api_openapi),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={
            BadRequest: _on_bad_request,
            DiagnoseError: _on_bad_request,
            TooManyChecks: _on_bad_request,
            HTTPException: _on_http,
        },
    )
    app.state.site = site
    app.add_middleware(Guard)
    return app
