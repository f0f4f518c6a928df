"""Where the config sends a secret that is not the provider's own host: worth a warning.

The loader already refuses plain http to anything but this machine. An https override is
legitimate (a company proxy, a regional gateway) but easy to get wrong or to be talked
into: the Pantheon machine token or the New Relic key then goes to whoever runs that
host. So `lifeline check` and Settings say so, once, in plain words.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.config import DEFAULT_PANTHEON_API, Config
from app.credentials import NEWRELIC_KEY, PANTHEON_TOKEN

# (where in the config, the secret it carries, the provider's own domain)
_PANTHEON = ("[provider] api", "Pantheon machine token", "pantheon.io")
_NEWRELIC = ("[newrelic] endpoint", "New Relic API key", "newrelic.com")


def is_own_host(url: str, domain: str) -> bool:
    """`domain` itself or one of its subdomains (not "evilpantheon.io")."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return host == domain or host.endswith("." + domain)


def foreign_secret_hosts(config: Config) -> list[str]:
    """One warning line per setting that sends a provider's secret to another host."""
    return list(foreign_destinations(config).values())


def foreign_destinations(config: Config) -> dict[str, str]:
    """Secret name (app.credentials) -> the warning, for each secret sent elsewhere."""
    warnings: dict[str, str] = {}
    candidates = []
    if config.provider.api and config.provider.api != DEFAULT_PANTHEON_API:
        candidates.append((PANTHEON_TOKEN, config.provider.api, *_PANTHEON))
    if config.newrelic.endpoint:
        candidates.append((NEWRELIC_KEY, config.newrelic.endpoint, *_NEWRELIC))
    for name, url, where, secret, domain in candidates:
        if not is_own_host(url, domain):
            host = urlsplit(url).hostname or "?"
            warnings[name] = (
                f"{where} sends the {secret} to {host}, which is not a {domain} host; "
                "make sure you trust it"
            )
    return warnings
