"""Registry authentication the way ``docker login`` left it, for our own OCI registry calls.

Credentials come from the Docker CLI's ``config.json`` (in ``$DOCKER_CONFIG``, which the
caller passes from the run's settings, else in ``~/.docker``), which docker/login-action,
``docker login``, ``crane auth login`` and ``oras login`` write: a per-registry credential
helper (``credHelpers``), an ``auths`` entry (``auth`` is base64 ``user:password``, or
``username``/``password``), then the default store (``credsStore``). Helpers speak the
docker-credential-helpers protocol (``get``, the server on stdin, ``{"Username", "Secret"}``
on stdout).

:class:`RegistryAuth` answers the registry's challenge (the distribution spec's token
authentication, as ghcr.io does it): a 401 with ``WWW-Authenticate: Bearer realm=...,
service=...,scope=...`` sends ``GET realm?service=&scope=`` with the user's Basic
credentials and retries with the token it returns (``token`` or ``access_token``); a
``Basic`` challenge gets the credentials themselves. Refused credentials are one line naming
the registry and where the credentials came from (:class:`RegistryAuthError`); no secret is
ever part of a message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from vibevoice_ci.core.environment import Secret
from vibevoice_ci.core.errors import EXIT_BAD_INPUT, PipelineError
from vibevoice_ci.tools._exec import run_tool

# The names Docker Hub goes by; the Docker CLI stores its credentials under the first.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_AUTH_PARAM_RE = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?'
)
HELPER_TIMEOUT = 60.0


class RegistryAuthError(PipelineError):
    """The registry or its token service refused us, or the credentials cannot be read."""

    exit_code = EXIT_BAD_INPUT


class TokenServiceError(PipelineError):
    """The token service answered with an error that is not a refusal (5xx, 429, garbage);
    ``status`` is its HTTP status (0: no usable answer), so callers can retry the transient."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    """A user's credentials for one registry, and where they were found (for messages)."""

    username: str
    password: Secret = field(repr=False)
    source: str


@dataclass(frozen=True)
class DockerConfig:
    """The credential parts of a Docker CLI config.json, keyed by :func:`registry_key`."""

    path: Path
    auths: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    cred_helpers: Mapping[str, str] = field(default_factory=dict)
    creds_store: str | None = None
    server_urls: Mapping[str, str] = field(default_factory=dict)  # key -> the key as written


def registry_key(server: str) -> str:
    """A registry's name as credentials are looked up (pure): ``host[:port]``, lower case,
    without scheme or path; Docker Hub's names are one."""
    text = server.strip()
    host = urlsplit(text).netloc if "://" in text else text.split("/", 1)[0]
    host = host.lower()
    return "docker.io" if host in _DOCKER_HUB_HOSTS else host


def docker_config_path(docker_config: Path | None = None) -> Path:
    """Where the Docker CLI keeps config.json: in ``docker_config`` (``$DOCKER_CONFIG``, as
    ``RunEnvironment.docker_config`` carries it), else in ``~/.docker``."""
    return (docker_config or Path.home() / ".docker") / "config.json"


def parse_docker_config(text: str, path: Path) -> DockerConfig:
    """The credential parts of config.json's text (pure); malformed is an error."""
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise RegistryAuthError(
            f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise RegistryAuthError(f"{path} is not a JSON object")
    auths: dict[str, Mapping[str, Any]] = {}
    server_urls: dict[str, str] = {}
    for server, entry in (document.get("auths") or {}).items():
        if isinstance(entry, dict):
            auths[registry_key(server)] = entry
            server_urls[registry_key(server)] = server
    helpers = {
        registry_key(server): str(name)
        for server, name in (document.get("credHelpers") or {}).items()
        if isinstance(name, str) and name
    }
    store = document.get("credsStore")
    return DockerConfig(
        path=path,
        auths=auths,
        cred_helpers=helpers,
        creds_store=store if isinstance(store, str) and store else None,
        server_urls=server_urls,
    )


def load_docker_config(path: Path) -> DockerConfig:
    """config.json as the Docker CLI would read it; absent is an empty config."""
    where = path
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DockerConfig(path=where)
    except OSError as exc:
        raise RegistryAuthError(f"cannot read {where}: {exc.strerror}") from None
    return parse_docker_config(text, where)


HelperRunner = Callable[[str, str], "Credentials | None"]


def run_credential_helper(helper: str, server: str) -> Credentials | None:
    """``docker-credential-<helper> get`` for ``server``; None when it has nothing for it."""
    binary = shutil.which(f"docker-credential-{helper}")
    if binary is None:
        raise RegistryAuthError(
            f"config.json names the credential helper {helper!r}, but docker-credential-{helper}"
            " is not on PATH"
        )
    result = run_tool([binary, "get"], stdin_data=server, check=False, timeout=HELPER_TIMEOUT)
    if not result.ok:
        return None  # "credentials not found in native keychain"
    return parse_helper_output(result.stdout, f"docker-credential-{helper}")


def parse_helper_output(text: str, source: str) -> Credentials | None:
    """A credential helper's ``get`` answer (pure)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise RegistryAuthError(f"{source} answered something that is not JSON") from None
    username = document.get("Username") if isinstance(document, dict) else None
    secret = document.get("Secret") if isinstance(document, dict) else None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        return None
    if username == "<token>":
        raise RegistryAuthError(
            f"{source} holds an identity token, which is not supported here: log in with a "
            "user name and a password or access token"
        )
    return Credentials(username, Secret(secret), source)


def credentials_for(
    registry: str, config: DockerConfig, run_helper: HelperRunner = run_credential_helper
) -> Credentials | None:
    """The credentials ``docker login`` stored for ``registry``, or None (pure, apart from
    ``run_helper``): its credential helper, else its ``auths`` entry, else the default store."""
    key = registry_key(registry)
    server = DOCKER_HUB_KEY if key == "docker.io" else config.server_urls.get(key, key)
    helper = config.cred_helpers.get(key)
    if helper is not None:
        return run_helper(helper, server)
    entry = config.auths.get(key)
    if entry:
        found = _from_auths_entry(entry, f"{config.path} (auths)")
        if found is not None:
            return found
    if config.creds_store is not None:
        return run_helper(config.creds_store, server)
    return None


def _from_auths_entry(entry: Mapping[str, Any], source: str) -> Credentials | None:
    if entry.get("identitytoken"):
        raise RegistryAuthError(
            f"{source} holds an identity token, which is not supported here: log in with a "
            "user name and a password or access token"
        )
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryAuthError(
                f"{source}: an `auth` value is not base64 user:password"
            ) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise RegistryAuthError(f"{source}: an `auth` value is not base64 user:password")
        return Credentials(username, Secret(password), source)
    user, secret = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(secret, str) and secret:
        return Credentials(user, Secret(secret), source)
    return None


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: its scheme (lower case) and parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="...",service="...",scope="..."`` (or ``Basic realm="..."``) (pure)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _AUTH_PARAM_RE.match(rest, position)
        if match is None or match.end() == position:
            break
        quoted, plain = match[2], match[3]
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain or ""
        params[match[1].lower()] = value
        position = match.end()
    return Challenge(scheme.lower(), params)


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password.reveal()}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class RegistryAuth(httpx.Auth):
    """httpx authentication for one registry from docker login's credentials (see the module
    docstring). Tokens are kept per scope and sent first to the next request, so a session of
    calls asks the token service once per scope it needs."""

    requires_response_body = True

    def __init__(
        self,
        registry: str,
        *,
        docker_config: Path | None = None,
        credentials: Callable[[], Credentials | None] | None = None,
    ) -> None:
        self.registry = registry
        self.config_path = docker_config_path(docker_config)
        self._load = credentials or (
            lambda: credentials_for(registry, load_docker_config(self.config_path))
        )
        self._credentials: Credentials | None = None
        self._loaded = False
        self._token: str | None = None

    def credentials(self) -> Credentials | None:
        """Read once, when the registry first asks for them."""
        if not self._loaded:
            self._credentials = self._load()
            self._loaded = True
        return self._credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is not None:
            request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code != httpx.codes.UNAUTHORIZED:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise RegistryAuthError(
                f"{self.registry} asks for authentication this client does not speak "
                f"({response.headers.get('www-authenticate', 'no WWW-Authenticate header')!r})"
            )
        credentials = self.credentials()
        if challenge.scheme == "basic":
            if credentials is None:
                raise RegistryAuthError(self._no_credentials())
            request.headers["Authorization"] = basic_header(credentials)
            response = yield request
            if response.status_code == httpx.codes.UNAUTHORIZED:
                raise RegistryAuthError(self._refused(credentials, "the registry"))
            return
        token_response = yield self._token_request(challenge, credentials)
        self._token = self._read_token(challenge, token_response, credentials)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == httpx.codes.UNAUTHORIZED:
            scope = challenge.params.get("scope", "")
            who = f"user {credentials.username!r}" if credentials else "anonymous access"
            raise RegistryAuthError(
                f"{self.registry} refused the token it issued to {who} for {scope or 'its scope'}"
                " (no permission for that repository?)"
            )

    def _token_request(
        self, challenge: Challenge, credentials: Credentials | None
    ) -> httpx.Request:
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError(f"{self.registry}: its Bearer challenge names no realm")
        params = {k: challenge.params[k] for k in ("service", "scope") if challenge.params.get(k)}
        headers = {"Authorization": basic_header(credentials)} if credentials else {}
        return httpx.Request("GET", realm, params=params, headers=headers)

    def _read_token(
        self, challenge: Challenge, response: httpx.Response, credentials: Credentials | None
    ) -> str:
        realm = challenge.params.get("realm", "")
        status = response.status_code
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            if credentials is None:
                raise RegistryAuthError(self._no_credentials())
            raise RegistryAuthError(self._refused(credentials, f"its token service ({realm})"))
        if status != httpx.codes.OK:
            raise TokenServiceError(
                f"{self.registry}: its token service ({realm}) answered HTTP {status}", status
            )
        try:
            document = response.json()
        except ValueError:
            document = None
        token = None
        if isinstance(document, dict):
            token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenServiceError(
                f"{self.registry}: its token service ({realm}) returned no token", 0
            )
        return token

    def _no_credentials(self) -> str:
        return (
            f"{self.registry} requires authentication and {self.config_path} has no "
            f"credentials for it (docker login {registry_key(self.registry)})"
        )

    def _refused(self, credentials: Credentials, who: str) -> str:
        return (
            f"{self.registry}: {who} refused the credentials of user {credentials.username!r} "
            f"from {credentials.source} (wrong password or token? docker login again)"
        )
