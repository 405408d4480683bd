"""A worker's configuration taken from the central API (``sitewatch worker --from-api URL --site ID``).

Adding a server to a district is adding a worker: each worker process or host holds one edge key, fetches
its site's configuration (its camera list among it) from ``GET /api/v1/sites/{site}/config``, and reports
back over HTTP. No coordination code is needed between workers: the API is the one list of who watches
what.

The fetched document is written to a YAML file in the worker's data folder, so that a bad document is
reported with the key and the line of that file (and the last good copy is kept), and so that the worker
still starts on its last good configuration when the API cannot be reached (it says so). The key itself
is never written there: the file names the environment variable that holds it.

The API refuses to store what a worker would refuse: :func:`check_site_config`, handed to
:func:`api.app.create_app` by ``sitewatch api`` and ``sitewatch run``, loads a document as a worker would
(the same completion, the same file, the same model) and answers the worker's messages.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from sitewatch.config import Config, load_config, parse_config
from sitewatch.yamlpos import ConfigError, load_yaml, placeholders
from streams.sinks import auth_headers

logger = logging.getLogger(__name__)


class RemoteConfigError(ConfigError):
    """The configuration could not be fetched and no earlier copy exists, or the API refused the key."""


def config_url(api_url: str, site_id: str) -> str:
    """The address of a site's configuration.

    Example:
        >>> config_url("http://api:8000/", "site-a")
        'http://api:8000/api/v1/sites/site-a/config'
    """
    return f"{api_url.rstrip('/')}/api/v1/sites/{site_id}/config"


def _document(api_url: str, site_id: str, api_key: str, timeout_s: float) -> dict[str, Any]:
    """The stored document, or an error that says what to do about it."""
    response = httpx.get(config_url(api_url, site_id), headers=auth_headers(api_key), timeout=timeout_s)
    if response.status_code in (401, 403):
        raise RemoteConfigError(
            f"{api_url}: the edge key was refused ({response.status_code}): it must be an edge key for site "
            f"{site_id}"
        )
    if response.status_code == 404:
        raise RemoteConfigError(
            f"{api_url}: no configuration is stored for site {site_id} (an admin stores it with "
            f"PUT /api/v1/sites/{site_id}/config)"
        )
    response.raise_for_status()
    document: dict[str, Any] = response.json()["document"]
    return document


def with_api_sink(document: dict[str, Any], *, site_id: str, api_url: str, key_env: str) -> dict[str, Any]:
    """The document with its site id, and, where it names no sink, the API it came from as its sink (the
    key as a ``${VAR}`` placeholder, filled from the environment when the file is loaded).

    Example:
        >>> with_api_sink({"cameras": {}}, site_id="s", api_url="http://api", key_env="KEY")["sink"]
        {'type': 'http', 'url': 'http://api', 'api_key': '${KEY}'}
    """
    out = dict(document)
    out["site"] = {**(out.get("site") or {}), "id": site_id}
    if not out.get("sink"):
        out["sink"] = {"type": "http", "url": api_url, "api_key": f"${{{key_env}}}"}
    return out


#: The environment variable a fetched file names for the edge key unless ``--key-env`` says otherwise.
KEY_ENV = "SITEWATCH_EDGE_KEY"


def fetched_text(document: dict[str, Any], *, site_id: str, api_url: str, key_env: str) -> str:
    """The YAML file a worker writes for a fetched ``document`` (completed by :func:`with_api_sink`)."""
    document = with_api_sink(document, site_id=site_id, api_url=api_url, key_env=key_env)
    header = f"# Fetched from {config_url(api_url, site_id)}; replaced at each start.\n"
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def placeholder_problem(site_id: str, found: list[str]) -> str:
    """Why a fetched document with ``${...}`` placeholders at the keys ``found`` is refused."""
    return (
        f"the configuration of site {site_id} uses ${{...}} placeholders, which a fetched configuration may "
        f"not (they would read the worker's environment): " + ", ".join(found)
    )


def check_site_config(site_id: str, document: dict[str, Any]) -> list[str]:
    """What a worker fetching ``document`` as ``site_id``'s configuration would refuse, in its words (one
    ``file:line: key: message`` per problem, of the file it would write); none when it would load it.
    The API's :data:`api.sites.config.ConfigCheck`.

    Example:
        >>> check_site_config("s", {"cameras": {"gate": {"url": "rtsp://cam/1", "fps": 5}}})
        ['site-s.yaml:5: cameras.gate.fps: unknown key']
        >>> check_site_config("s", {"cameras": {"gate": {"url": "rtsp://cam/1"}}})
        []
    """
    if found := placeholders(document):
        return [placeholder_problem(site_id, found)]
    site = document.get("site")
    if site is not None and not isinstance(site, dict):
        return [f"site-{site_id}.yaml: site: expected a mapping of keys"]
    # Any http address stands for the API the worker will fetch from: only its form is checked.
    text = fetched_text(document, site_id=site_id, api_url="http://central-api", key_env=KEY_ENV)
    try:
        parse_config(load_yaml(text, f"site-{site_id}.yaml", env={KEY_ENV: "edge-key"}))
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def fetch_config(
    *,
    api_url: str,
    site_id: str,
    api_key: str,
    key_env: str,
    folder: Path,
    attempts: int = 5,
    retry_s: float = 2.0,
    timeout_s: float = 10.0,
) -> tuple[Config, Path]:
    """Fetch the site's configuration and validate it; on a network failure retry, then fall back to the
    copy of the last successful fetch.

    Args:
        api_url: the central API's base address.
        site_id: the site this worker watches.
        api_key: the worker's edge key.
        key_env: the environment variable holding ``api_key`` (written into the file instead of the key).
        folder: where the fetched copy is kept (``site-<id>.yaml``).
        attempts: tries before falling back to the copy.
        retry_s: wait before the second try, doubled after each failure.
        timeout_s: per request.

    Returns:
        The configuration and the file it was read from.

    Raises:
        RemoteConfigError: the key was refused, nothing is stored for the site, or the API cannot be
            reached and there is no earlier copy.
        ConfigError: the document is not a valid configuration (``file:line: key: message``).
    """
    path = Path(folder) / f"site-{site_id}.yaml"
    own = {key_env: api_key}
    wait = retry_s
    for attempt in range(1, attempts + 1):
        try:
            document = _document(api_url, site_id, api_key, timeout_s)
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            logger.warning(
                "fetching the configuration of %s (try %d of %d): %s", site_id, attempt, attempts, exc
            )
            if attempt < attempts:
                time.sleep(wait)
                wait *= 2
            continue
        if found := placeholders(document):
            # The document is the API's: filling its placeholders would hand this machine's environment
            # (other sites' keys, cloud credentials) to whoever may store a site's configuration.
            raise RemoteConfigError(f"{api_url}: {placeholder_problem(site_id, found)}")
        text = fetched_text(document, site_id=site_id, api_url=api_url, key_env=key_env)
        path.parent.mkdir(parents=True, exist_ok=True)
        fetched = path.with_suffix(".fetched.yaml")
        fetched.write_text(text, encoding="utf-8")
        # Only the placeholder written above for the key is filled, nothing else of the environment; a bad
        # document stays there, named in the error, and the good copy stays.
        config = load_config(fetched, own)
        fetched.replace(path)
        logger.info("configuration of site %s fetched from %s", site_id, api_url)
        return config, path
    if path.is_file():
        logger.warning(
            "the API at %s cannot be reached: starting on the configuration fetched earlier, %s",
            api_url,
            path,
        )
        return load_config(path, own), path
    raise RemoteConfigError(
        f"{api_url}: cannot fetch the configuration of site {site_id} after {attempts} tries, and no "
        f"earlier copy exists in {folder}"
    )
