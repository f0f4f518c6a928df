"""Which certificate authorities the probes trust: the same rules as the app's other HTTP.

SSL_CERT_FILE, then SSL_CERT_DIR, as curl and OpenSSL read them (a company CA, a test CA);
on Windows and macOS the system's own store (truststore); elsewhere the bundle OpenSSL was
built to use, or the first distribution bundle found when that path does not exist (a
Python built elsewhere, e.g. pyenv's or a frozen build, points at its own prefix).
"""

from __future__ import annotations

import functools
import os
import re
import ssl
import sys

# Where Linux and BSD distributions keep their CA bundle.
_DISTRIBUTION_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Alpine
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/cert.pem",  # BSDs, Alpine
    "/etc/ssl/ca-bundle.pem",  # openSUSE
)
_HASHED_NAME = re.compile(r"[0-9a-fA-F]{8}\.\d+")


def _hashed_dir(path: str) -> bool:
    try:
        return any(_HASHED_NAME.fullmatch(name) for name in os.listdir(path))
    except OSError:
        return False


def _system_context() -> ssl.SSLContext:
    if sys.platform in ("win32", "darwin"):
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies peer and host name
    paths = ssl.get_default_verify_paths()
    cafile = paths.openssl_cafile if os.path.isfile(paths.openssl_cafile) else None
    capath = paths.openssl_capath if _hashed_dir(paths.openssl_capath) else None
    if cafile is None and capath is None:
        cafile = next((p for p in _DISTRIBUTION_BUNDLES if os.path.isfile(p)), None)
    if cafile is not None or capath is not None:
        context.load_verify_locations(cafile, capath)
    return context


@functools.cache
def default_context() -> ssl.SSLContext:
    """The verifying context, built once (loading a bundle costs tens of ms of CPU)."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    return _system_context()
