"""``diagnose serve``: the consultation as a web page and an HTTP API.

The web stack (the ``[web]`` extra) is imported here, when the command runs, and
nowhere else: the CLI's start-up does not pay for it.
"""

from __future__ import annotations

import click

from diagnose.commands.options import dns_settings, nameserver_option, rules_option, timeout_option
from diagnose.exceptions import UsageError
from diagnose.i18n import _


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, metavar="HOST", help="Address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8080,
    show_default=True,
    metavar="PORT",
    help="Port to listen on.",
)
@nameserver_option
@timeout_option
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=256),
    default=1,
    show_default=True,
    metavar="N",
    help="Worker processes (each answers any request: the server keeps no state).",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    metavar="N",
    help="Live checks one client address may start a minute (0: no limit).",
)
@click.option(
    "--max-checks",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    metavar="N",
    help="Live checks running at once in one worker; more are answered 429.",
)
@rules_option
def serve(
    host: str,
    port: int,
    nameservers: tuple[str, ...],
    timeout: float,
    workers: int,
    rate_limit: int,
    max_checks: int,
    rules_dir: str | None,
) -> None:
    """Serve the consultation as a web page and an HTTP API (/api/v1/).

    Needs the web extra: pip install 'diagnose[web]'.
    """
    import os

    try:
        import uvicorn
    except ImportError:
        raise UsageError(
            _("diagnose serve needs the web extra: {command}.").format(
                command="pip install 'diagnose[web]'"
            )
        ) from None
    dns_settings(nameservers, timeout)  # a malformed --nameserver is a usage error here
    from diagnose.kb.loader import load

    load(rules_dir)  # a broken knowledge base is reported before the server starts
    from diagnose.web.app import ENV_SETTINGS, Settings

    settings = Settings(nameservers, timeout, rate_limit, max_checks, rules_dir)
    # Workers are separate processes that import the app factory: they read their
    # settings from the environment.
    os.environ[ENV_SETTINGS] = settings.to_env()
    click.echo(
        "diagnose: "
        + _("serving on {address} (Ctrl-C to stop)").format(address=f"http://{host}:{port}/"),
        err=True,
    )
    uvicorn.run(
        "diagnose.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # diagnose.web.guard logs requests without their query strings
        log_config=_log_config(),
        server_header=False,
    )


def _log_config() -> dict[str, object]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "diagnose": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
