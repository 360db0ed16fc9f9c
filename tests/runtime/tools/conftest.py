"""Fixtures of the tool tests: a local HTTP server on 127.0.0.1 (the only network these
tests use) and its TLS twin, configs that allow it, a workspace folder, a ToolRef factory."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from agent_factory.compiler.ir import ToolBinding, ToolRef
from agent_factory.compiler.span import Span
from agent_factory.runtime.tools import HttpConfig, ToolConfig, ToolContext


@pytest.fixture
def anyio_backend() -> str:
    """The runtime runs on asyncio (LangGraph), so the tools are tested there."""
    return "asyncio"


@dataclass
class Seen:
    """A request the local server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """The running test server: its base URL and the requests it has seen."""

    port: int
    requests: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


WIKI_SEARCH = {
    "pages": [
        {"id": 1, "key": "Ada_Lovelace", "title": "Ada Lovelace", "excerpt": "<span>Ada</span> Lovelace",
         "description": "English mathematician"},
        {"id": 2, "key": "Lovelace_(film)", "title": "Lovelace (film)", "excerpt": "", "description": "film"},
    ]
}
# a page the summary endpoint does not know, as on a MediaWiki site without that endpoint
WIKI_SEARCH_WITHOUT_SUMMARY = {
    "pages": [{"id": 3, "key": "Charles_Babbage", "title": "Charles Babbage",
               "excerpt": '<span class="searchmatch">Babbage</span> designed the Analytical Engine',
               "description": "English mathematician"}]
}
WIKI_SUMMARY = {
    "title": "Ada Lovelace",
    "extract": "Augusta Ada King, Countess of Lovelace, was an English mathematician.",
    "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Ada_Lovelace"}},
}


class _Handler(BaseHTTPRequestHandler):
    """Routes used by the tests; each records the request first."""

    server_version = "LocalTest/1.0"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.local.requests.append(  # type: ignore[attr-defined]
            Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        route = getattr(self, "_route_" + parts.path.strip("/").split("/")[0].replace(".", "_").replace("-", "_"), None)
        if route is None:
            self._send(404, b"no such page", "text/plain")
        else:
            route(parts.path, query, body)

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers=None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: object, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode())

    def _route_echo(self, path, query, body) -> None:
        self._json({"method": self.command, "path": self.path, "host": self.headers.get("host"),
                    "body": body.decode()})

    def _route_text(self, path, query, body) -> None:
        self._send(200, "héllo wörld".encode("latin-1"), "text/plain; charset=iso-8859-1")

    def _route_binary(self, path, query, body) -> None:
        self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")

    def _route_status(self, path, query, body) -> None:
        code = int(path.rsplit("/", 1)[-1])
        self._send(code, b"Not Found: the item does not exist", "text/plain")

    def _route_redirect(self, path, query, body) -> None:
        self._send(int(query.get("status", "302")), b"", "text/plain", {"location": query["to"]})

    def _route_loop(self, path, query, body) -> None:
        self._send(302, b"", "text/plain", {"location": "/loop"})

    def _route_big(self, path, query, body) -> None:
        self._send(200, b"x" * int(query["n"]), "text/plain")

    def _route_stream(self, path, query, body) -> None:
        """A body without Content-Length, so only the running count can stop it."""
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        for _ in range(int(query["chunks"])):
            self.wfile.write(b"y" * 65536)

    def _route_slow(self, path, query, body) -> None:
        time.sleep(float(query.get("s", "2")))
        self._send(200, b"late", "text/plain")

    def _route_w(self, path, query, body) -> None:
        pages = {"zzzz": {"pages": []}, "Babbage": WIKI_SEARCH_WITHOUT_SUMMARY}.get(query.get("q"), WIKI_SEARCH)
        self._json(pages)

    def _route_api(self, path, query, body) -> None:
        key = unquote(path.rsplit("/", 1)[-1])
        self._json(WIKI_SUMMARY) if key == "Ada_Lovelace" else self._json({"title": "Not found"}, 404)

    def _route_search(self, path, query, body) -> None:
        results = [
            {"title": f"Result {i} for {query['q']}", "link": f"https://example.org/{i}", "description": f"snippet {i}"}
            for i in range(1, 11)
        ]
        self._json({"data": {"items": results[: int(query["n"])]}, "auth": self.headers.get("x-api-key")})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up early (size-limit tests do) are expected; stay quiet."""


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """An HTTP server on 127.0.0.1 with the routes above, for the length of one test."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    local = LocalServer(port=httpd.server_address[1])
    httpd.local = local  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield local
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allowed_ctx() -> ToolContext:
    """A context whose HTTP policy allows 127.0.0.1 (and only that)."""
    return ToolContext(ToolConfig(timeout_s=5, http=HttpConfig(allow_hosts=("127.0.0.1",))))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder, with a secret file beside it (outside)."""
    root = tmp_path / "workspace"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("top secret")
    return root


def _tool_ref(name: str, kind: str | None = None, target: str = "", method: str | None = None,
              description: str = "") -> ToolRef:
    """A ToolRef as the compiler produces it, bound when `kind` is given."""
    span = Span.point("specs/test.md", 1)
    binding = ToolBinding(span=span, kind=kind, method=method, target=target) if kind else None
    return ToolRef(span=span, name=name, description=description, binding=binding)


@pytest.fixture
def tool_ref():
    """Builds `ToolRef`s (a fixture, so test modules need not import this conftest)."""
    return _tool_ref


def _self_signed(name: str) -> tuple[bytes, bytes]:
    """A certificate for `name` (its own CA) and its key, both PEM."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_server(local_server, tmp_path, monkeypatch):
    """The local server's routes over TLS, with a certificate for `tls.test` that the fetcher
    trusts; requests are recorded in `local_server`. Yields the port."""
    import ssl

    from agent_factory.runtime.tools import fetch as fetch_module

    pytest.importorskip("cryptography")  # to make the certificate; not a dependency of the tools

    cert, key = _self_signed("tls.test")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.local = local_server
    httpd.socket = server_side.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    monkeypatch.setattr(fetch_module, "_tls_context", lambda: ssl.create_default_context(cadata=cert.decode()))
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
