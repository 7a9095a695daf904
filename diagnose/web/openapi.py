"""The API's OpenAPI 3.1 document (``GET /api/v1/openapi.json``), written by hand: the
API is small, and no framework generates it here."""

from __future__ import annotations

from typing import Any

_ERROR: dict[str, Any] = {
    "description": "An error: the sentence the CLI would print.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}
_ERRORS: dict[str, Any] = {
    "400": _ERROR,
    "413": {**_ERROR, "description": "The request body is over 64 KB."},
}
_LIVE: dict[str, Any] = {**_ERRORS, "429": {**_ERROR, "description": "Too many live checks."}}
_ARRAY: dict[str, Any] = {"type": "array"}
_LANG: dict[str, Any] = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["en", "ru"], "default": "en"},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


#: The language of a body's messages; ids and statuses are the same in every language.
_LANG = {"type": "string", "enum": ["en", "ru"], "default": "en"}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


def document(version: str) -> dict[str, object]:
    articles: dict[str, Any] = {**_ERRORS, "200": _json(_ARRAY, "The articles.")}
    questions: dict[str, Any] = {**_ERRORS, "200": _json(_ARRAY, "The questions.")}
    report: dict[str, Any] = {
        "type": "object",
        "description": "As `diagnose mail|email --format json` prints it.",
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "diagnose", "version": version},
        "paths": {
            "/api/v1/consultation": {
                "post": {
                    "summary": "The next question for these answers, or the result.",
                    "requestBody": _body(
                        {
                            "answers": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                                "description": "Question and ticket-field ids to answers "
                                "(GET /api/v1/questions lists them).",
                            },
                            "lang": _LANG,
                        },
                        [],
                    ),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "done": {"type": "boolean"},
                                    "question": {
                                        "type": "object",
                                        "description": "id, number, prompt, type, choices, "
                                        "help, why (when done is false)",
                                    },
                                    "result": {
                                        "type": "object",
                                        "description": "What `diagnose run --format json "
                                        "--no-input` prints (when done is true)",
                                    },
                                },
                                "required": ["done"],
                            },
                            "The next question, or the result.",
                        ),
                        **_LIVE,
                    },
                }
            },
            "/api/v1/mail": {
                "post": {
                    "summary": "Can this domain receive mail? (a live check)",
                    "requestBody": _body({"domain": {"type": "string"}, "lang": _LANG}, ["domain"]),
                    "responses": {"200": _json(report, "The domain's report."), **_LIVE},
                }
            },
            "/api/v1/email": {
                "post": {
                    "summary": "Is this address valid, and can its domain receive mail?",
                    "requestBody": _body(
                        {"address": {"type": "string"}, "lang": _LANG}, ["address"]
                    ),
                    "responses": {"200": _json(report, "The address's report."), **_LIVE},
                }
            },
            "/api/v1/articles": {
                "get": {
                    "summary": "The articles: id, title, outcome.",
                    "parameters": [_LANG],
                    "responses": articles,
                }
            },
            "/api/v1/questions": {
                "get": {
                    "summary": "The questions and ticket fields with their answers.",
                    "parameters": [_LANG],
                    "responses": questions,
                }
            },
            "/healthz": {
                "get": {
                    "summary": "The server is up.",
                    "responses": {"200": _json({"type": "object"}, "ok")},
                }
            },
        },
    }
