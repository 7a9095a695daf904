"""The TLS client contexts of the MTA-STS fetch and the SMTP probe, built once.

``ssl.create_default_context()`` reads the system's whole trust store (tens of
milliseconds), so a batch with many MTA-STS domains or MX hosts would pay that per
connection. The contexts are kept per trust-store setting (``SSL_CERT_FILE`` and
``SSL_CERT_DIR``, which OpenSSL reads when a context loads its defaults), so a
changed setting gets a fresh one.
"""

from __future__ import annotations

import functools
import os
import ssl


def client_context(check_hostname: bool = True) -> ssl.SSLContext:
    """A context that validates the chain against the system's roots; with
    ``check_hostname`` false the caller compares the certificate's names itself."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _context(check_hostname, key)


@functools.cache
def _context(check_hostname: bool, trust: tuple[str | None, str | None]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = check_hostname
    return context
