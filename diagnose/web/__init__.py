"""The consultation on the web: a page and an HTTP API (``diagnose serve``).

Imported only by ``diagnose serve`` (the ``[web]`` extra: Starlette, uvicorn, Jinja2,
python-multipart), never at the CLI's start-up. The pages and the API render the
core's step machine (``diagnose.conversation``) and hold no flow of their own; the
state of a consultation travels with each request, so the server keeps no user data
and any worker can answer any request.
"""
