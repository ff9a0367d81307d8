"""A registry that demands a bearer token the way ghcr.io does, on 127.0.0.1, for real.

Debian's docker-registry (distribution 2.8) with ``auth: token`` runs on an inner loopback
port; one front on another port serves the token service at ``/token`` and passes everything
else to it, so the ``realm`` in the registry's challenge is on the registry's own host and
port (oras and crane refuse a realm elsewhere on a private address; ../shared/ENVIRONMENT.md,
"A registry that demands credentials"). The token service checks the user's Basic
credentials and answers ``{"token", "access_token"}``: a JWT signed RS256 by a key whose
self-signed certificate is the registry's ``rootcertbundle`` (certificate in the header's
``x5c``), granting the actions asked for in ``scope`` that the user may have.

Keys and signatures come from the openssl command; no mocks, no extra Python dependency.
``docker_config`` writes the config.json that ``docker login`` / docker/login-action write.

Also a command, for the release chain executed by act (docs/workflows.md): ``python
tests/integration/token_registry.py serve --folder DIR --user NAME --password-env VAR
[--port N] [--address-file FILE]`` serves one user (the password read from the environment,
never from the command line) until SIGTERM or SIGINT, and writes ``127.0.0.1:PORT`` to the
address file once the registry answers.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

if __name__ == "__main__":  # run as a command: the shared test helpers live in tests/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from release_support import free_port, require_tool

SERVICE = "vibevoice-test-registry"
ISSUER = "vibevoice-test-token-service"
TOKEN_SECONDS = 300
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    }
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenRegistry:
    """The running pair: ``address`` (``127.0.0.1:PORT``) is what clients use."""

    address: str
    users: Mapping[str, str]
    # user -> the repository actions each may have ("*": every repository)
    grants: Mapping[str, Mapping[str, tuple[str, ...]]]
    folder: Path
    # every token request: (user or None, scopes asked, answer status)
    token_requests: list[tuple[str | None, list[str], int]] = field(default_factory=list)

    @property
    def realm(self) -> str:
        return f"http://{self.address}/token"


class _Signer:
    """An RS256 key and its self-signed certificate, made with openssl."""

    def __init__(self, folder: Path) -> None:
        self.key = folder / "token.key"
        self.cert = folder / "token.crt"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={ISSUER}", "-keyout", str(self.key), "-out", str(self.cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode("ascii")

    def sign(self, claims: Mapping[str, object]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"


def _granted(registry: TokenRegistry, user: str, scope: str) -> dict[str, object] | None:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name:
        return None
    allowed = registry.grants.get(user, {})
    may = set(allowed.get(name, allowed.get("*", ())))
    given = [action for action in actions.split(",") if action in may]
    return {"type": "repository", "name": name, "actions": given}


def _handler(registry: TokenRegistry, signer: _Signer, inner: str) -> type:
    class Front(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet

        def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _token(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            scopes = query.get("scope", [])
            user = None
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                decoded = base64.b64decode(header[6:]).decode("utf-8", "replace")
                name, _, password = decoded.partition(":")
                if registry.users.get(name) == password:
                    user = name
            if user is None:
                registry.token_requests.append((None, scopes, 401))
                self._send(
                    401,
                    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                    {"WWW-Authenticate": f'Basic realm="{registry.realm}"'},
                )
                return
            now = int(time.time())
            access = [g for s in scopes if (g := _granted(registry, user, s)) is not None]
            claims = {
                "iss": ISSUER,
                "sub": user,
                "aud": query.get("service", [SERVICE])[0],
                "exp": now + TOKEN_SECONDS,
                "nbf": now - 10,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "access": access,
            }
            token = signer.sign(claims)
            registry.token_requests.append((user, scopes, 200))
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300})
            self._send(200, body.encode(), {"Content-Type": "application/json"})

        def _request_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _proxy(self) -> None:
            body = self._request_body()
            # Host stays: the registry builds its Location headers from it. A repeated header
            # is joined, not collapsed: Docker sends one Accept per media type, and with only
            # the last one the registry refuses an OCI index ("accept header does not support").
            headers: dict[str, str] = {}
            for key in dict.fromkeys(self.headers.keys()):
                if key.lower() not in _HOP_BY_HOP:
                    headers[key] = ", ".join(self.headers.get_all(key) or [])
            headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection(inner, timeout=300)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
                kept = {
                    k: v
                    for k, v in answer.getheaders()
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                }
                if self.command == "HEAD":
                    self.send_response(answer.status)
                    for key, value in kept.items():
                        self.send_header(key, value)
                    length = answer.getheader("Content-Length")
                    self.send_header("Content-Length", length or "0")
                    self.end_headers()
                    return
                self._send(answer.status, payload, kept)
            finally:
                connection.close()

        def _route(self) -> None:
            if urlsplit(self.path).path == "/token":
                self._token()
            else:
                self._proxy()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _route

    return Front


@contextlib.contextmanager
def running_token_registry(
    folder: Path,
    users: Mapping[str, str],
    grants: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
    port: int = 0,
) -> Iterator[TokenRegistry]:
    """The registry and its token service on 127.0.0.1; every user may pull and push every
    repository unless ``grants`` says otherwise (``{user: {repository or "*": actions}}``)."""
    binary = require_tool("docker-registry")
    require_tool("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    signer = _Signer(folder)
    front = http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
    address = f"127.0.0.1:{front.server_address[1]}"
    registry = TokenRegistry(
        address=address,
        users=dict(users),
        grants=grants or {user: {"*": ("pull", "push")} for user in users},
        folder=folder,
    )
    inner = f"127.0.0.1:{free_port()}"
    config = folder / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {inner}\n"
        "auth:\n  token:\n"
        f"    realm: {registry.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
        f"    rootcertbundle: {signer.cert}\n",
        encoding="utf-8",
    )
    front.RequestHandlerClass = _handler(registry, signer, inner)
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    thread = threading.Thread(target=front.serve_forever, name="token-registry", daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            for _ in range(120):
                try:
                    if client.get(f"http://{address}/v2/").status_code == 401:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
            else:
                raise RuntimeError("the token-auth registry did not come up")
        yield registry
    finally:
        front.shutdown()
        front.server_close()
        process.terminate()
        process.wait(timeout=30)


def docker_config(folder: Path, registry: str, user: str, password: str) -> Path:
    """A Docker config folder (for $DOCKER_CONFIG) holding what `docker login` writes:
    ``auths[registry].auth`` = base64 ``user:password``."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    (folder / "config.json").write_text(
        json.dumps({"auths": {registry: {"auth": auth}}}, indent=1), encoding="utf-8"
    )
    return folder


def password_from(parser: argparse.ArgumentParser, variable: str) -> str:
    """The password in ``$variable`` (never an argument: it would show in a process list);
    an empty one is a usage error (exit 2)."""
    password = os.environ.get(variable, "")
    if not password:
        parser.error(f"${variable} is empty: no password to accept")
    return password


def stop_event() -> threading.Event:
    """An event SIGTERM or SIGINT sets: a server's command waits on it, then cleans up."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


def serve(argv: list[str]) -> int:
    """The ``serve`` command (see the module docstring); exit 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="token_registry.py serve")
    parser.add_argument("--folder", type=Path, required=True, help="keys, config and storage")
    parser.add_argument("--user", required=True, help="the one user (github.actor)")
    parser.add_argument(
        "--password-env", required=True, help="the variable holding the user's password"
    )
    parser.add_argument("--port", type=int, default=0, help="the front's port (default: any)")
    parser.add_argument("--address-file", type=Path, help="write 127.0.0.1:PORT here when up")
    args = parser.parse_args(argv)
    password = password_from(parser, args.password_env)
    stop = stop_event()
    with running_token_registry(args.folder, {args.user: password}, port=args.port) as registry:
        if args.address_file is not None:
            partial = args.address_file.with_name(args.address_file.name + ".partial")
            partial.write_text(registry.address + "\n", encoding="utf-8")
            partial.replace(args.address_file)
        print(f"token-auth registry on {registry.address} (realm {registry.realm})", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        print(
            "usage: token_registry.py serve --folder DIR --user NAME --password-env VAR "
            "[--port N] [--address-file FILE]",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(serve(sys.argv[2:]))
