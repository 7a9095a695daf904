"""A small HTTP client for the tests of `diagnose serve` (stdlib only): requests to the
real server on 127.0.0.1, and the forms of a page read the way a browser reads them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> object:
        return json.loads(self.text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def request(
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Reply:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _opener.open(req, timeout=30) as response:
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read().decode("utf-8"),
            )
    except urllib.error.HTTPError as error:
        return Reply(
            error.code,
            {k.lower(): v for k, v in error.headers.items()},
            error.read().decode("utf-8"),
        )


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text
    radios: list[str] = field(default_factory=list)  # the values of name="answer" radios
    css: str = ""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), css=a.get("class", "")))
        elif not self.forms:
            return
        elif tag == "input" and a.get("type") == "hidden":
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio":
            self.forms[-1].radios.append(a.get("value", ""))
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            self.forms[-1].buttons.append(
                (self._button[0], self._button[1], self._button[2].strip())
            )
            self._button = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def step_form(html: str) -> Form:
    """The form that answers the page's step (it carries ``at``)."""
    found = [f for f in forms(html) if "at" in f.fields and f.action == "/"]
    assert found, "the page has no step form"
    return found[0]


class Server:
    """`diagnose serve` in a subprocess on a free port of 127.0.0.1."""

    def __init__(self, *args: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "diagnose", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    log = self.process.stdout.read()  # type: ignore[union-attr]
                    raise RuntimeError(f"diagnose serve ended: {log}") from None
                time.sleep(0.1)
        raise RuntimeError("diagnose serve did not start in 30 seconds")

    def stop(self) -> str:
        """Stop the server; returns its log."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=20)
        return out

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return request(self.base + path, headers=headers)

    def post_json(self, path: str, body: object, headers: dict[str, str] | None = None) -> Reply:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return request(
            self.base + path, data, {"content-type": "application/json", **(headers or {})}
        )

    def post_form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Reply:
        data = urllib.parse.urlencode(fields).encode()
        return request(
            self.base + path,
            data,
            {"content-type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def submit(self, html: str, action: str, answer: str | None = None, **extra: str) -> Reply:
        """Press the step form's button ``action`` (with ``answer`` typed or chosen)."""
        form = step_form(html)
        assert any(name == "action" and value == action for name, value, _ in form.buttons), (
            f"no button {action!r} on the page: {form.buttons}"
        )
        fields = {**form.fields, "action": action, **extra}
        if answer is not None:
            fields["answer"] = answer
        return self.post_form(form.action, fields)


def consultation_cases() -> list[tuple[str, dict[str, str]]]:
    """One consultation per article: the knowledge base's scenarios without stubbed
    checks, so every answer is real and the live checks run."""
    from diagnose.kb import scenarios
    from diagnose.kb.loader import load

    chosen: dict[str, dict[str, str]] = {}
    for scenario in scenarios.load(load(lang="en")):
        if not scenario.checks and scenario.expect not in chosen:
            chosen[scenario.expect] = dict(scenario.answers)
    return sorted(chosen.items())
