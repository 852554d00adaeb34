"""The HTTP front: a ``ThreadingHTTPServer`` that answers like Microsoft Graph, and the
``GraphSimulator`` class tests and scripts drive.

Only the standard library is imported: the simulator also runs in a cold-start benchmark
and must start in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from graphsim.control import handle_control, is_control_path
from graphsim.faults import Fault, FaultSet
from graphsim.mtd_connectors import MTD_CONNECTORS
from graphsim.odata import (
    DEFAULT_ERROR_MESSAGES,
    GRAPH_CONTENT_TYPE,
    GraphError,
    Reply,
    error_reply,
)
from graphsim.raw_pages import RawPages
from graphsim.recording import RecordedRequest, RequestLog
from graphsim.resources import VERSIONS
from graphsim.routes import DEFAULT_PAGE_SIZE, PATCH_MERGE, PATCH_REPLACE, GraphApi, GraphRequest
from graphsim.scenario import ScenarioSource, load_scenario, prepare_entity
from graphsim.state import Store
from graphsim.timestamps import format_inner_error_date

# Truncated mid-string: every JSON parser rejects it, as with a connection cut mid-body.
MALFORMED_BODY = b'{"value":[{"id":"2c7790de-8b02-4814-85cf-e0c59'

LogSink = Callable[[str], None]
# serve_forever() notices shutdown only between polls: 10 ms keeps stop() (and so every
# test's teardown) fast, at the cost of 100 idle select() calls a second.
_POLL_SECONDS = 0.01


class GraphSimulator:
    """A local Microsoft Graph for the calls MTD Guard makes.

    ``scenario`` is a mapping, a JSON file path or None; ``page_size`` (when given) wins
    over the scenario's ``pageSize``, which wins over 100. ``port=0`` binds a free port.
    ``log`` receives one line per request (the CLI passes a stderr writer).
    """

    def __init__(
        self,
        scenario: ScenarioSource = None,
        page_size: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        patch_returns_body: bool = False,
        *,
        log: LogSink | None = None,
        patch_mode: str | None = None,
    ) -> None:
        if patch_mode not in (None, PATCH_MERGE, PATCH_REPLACE):
            raise ValueError(f"patch_mode must be {PATCH_MERGE!r} or {PATCH_REPLACE!r}, not {patch_mode!r}")
        self._explicit_patch_mode = patch_mode
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be >= 1, not {page_size}")
        self._explicit_page_size = page_size
        self._host = host
        self._port = port
        self._log = log
        self._store = Store()
        self._faults = FaultSet()
        self._requests = RequestLog()
        self._raw_pages: dict[str, RawPages] = {}  # by lower-case collection path
        self._api = GraphApi(self._store, patch_returns_body=patch_returns_body)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Set while stopping: wakes "slow" faults so stop() never waits out a delay.
        self._stopping = threading.Event()
        self.tenant_id: str | None = None
        self.load_scenario(scenario)  # a bad scenario fails here, before any socket exists

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> GraphSimulator:
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        server_class = _Server6 if ":" in self._host else _Server
        server = server_class((self._host, self._port), _Handler)
        server.sim = self
        self._stopping.clear()
        # stop() waits for the accept loop's next poll; see _POLL_SECONDS.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": _POLL_SECONDS}, name="graphsim"
        )
        self._thread.daemon = True
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()  # idle keep-alive connections would hold threads
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> GraphSimulator:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://host:port``: no version suffix, no trailing slash (msgraph-sdk wants
        ``base_url + "/v1.0"`` exactly)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    # -- tenant state ----------------------------------------------------------------
    @property
    def page_size(self) -> int:
        return self._api.page_size

    def load_scenario(self, scenario: ScenarioSource) -> None:
        """Replace every entity and the faults with the scenario's; the request log stays."""
        loaded = load_scenario(scenario)
        self._store.replace_all(loaded.entities)
        self._faults.replace(loaded.faults)
        self._raw_pages = {}
        self._api.page_size = self._explicit_page_size or loaded.page_size or DEFAULT_PAGE_SIZE
        self.tenant_id = loaded.tenant_id
        # the switches for what is unconfirmed about Graph's writes: the constructor's (CLI's)
        # patch mode beats the scenario's; a scenario without them puts the defaults back
        self._api.patch_mode = self._explicit_patch_mode or loaded.patch_mode or PATCH_MERGE
        self._api.server_keeps = dict(loaded.server_keeps)

    @property
    def patch_mode(self) -> str:
        """How PATCH treats connector booleans it was not sent: "merge" (kept, the default) or
        "replace" (reset to false). Which one Graph does is unconfirmed: tests run both."""
        return self._api.patch_mode

    @patch_mode.setter
    def patch_mode(self, mode: str) -> None:
        if mode not in (PATCH_MERGE, PATCH_REPLACE):
            raise ValueError(f"patch_mode must be {PATCH_MERGE!r} or {PATCH_REPLACE!r}, not {mode!r}")
        self._api.patch_mode = mode

    @property
    def server_keeps(self) -> dict[str, Any]:
        """Properties whose value the service keeps whatever a POST or PATCH sends (a copy)."""
        return dict(self._api.server_keeps)

    @server_keeps.setter
    def server_keeps(self, kept: dict[str, Any]) -> None:
        self._api.server_keeps = dict(kept)

    def connector(self, connector_id: str) -> dict[str, Any] | None:
        """The stored connector (all v1.0 and beta properties, raw values), or None."""
        return self._store.get(MTD_CONNECTORS.collection_path, connector_id)

    def connectors(self) -> list[dict[str, Any]]:
        return self._store.list_all(MTD_CONNECTORS.collection_path)

    def put_connector(self, connector: dict[str, Any]) -> None:
        """Insert or replace one connector written like a scenario entry (relative times
        allowed): lets a test change the tenant between two sweeps without a reload."""
        entity = prepare_entity(MTD_CONNECTORS, connector, where="connector")
        self._store.put(MTD_CONNECTORS.collection_path, entity)

    def serve_raw_pages(self, pages: RawPages) -> None:
        """Answer GETs of ``pages.path`` with the pages as written (graphsim/raw_pages.py) until
        ``clear_raw_pages`` or the next scenario load; faults still come first."""
        self._raw_pages = {**self._raw_pages, pages.path.rstrip("/").lower(): pages}

    def clear_raw_pages(self) -> None:
        self._raw_pages = {}

    # -- faults and the request log --------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Graph requests answered so far, oldest first (a snapshot)."""
        return self._requests.snapshot()

    def clear_requests(self) -> None:
        self._requests.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default joins every handler thread on close, i.e. waits for clients to hang up
    # their keep-alive connections; close_connections() ends them instead.
    block_on_close = False
    request_queue_size = 128  # benchmarks open many connections at once
    sim: GraphSimulator

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can
        # take seconds on a machine without DNS; we never need the name.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def track(self, conn: socket.socket, active: bool) -> None:
        with self._connections_lock:
            (self._connections.add if active else self._connections.discard)(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response (timeouts, stop()) is routine for a test
        # server; one log line instead of socketserver's traceback on stderr.
        exc = sys.exc_info()[1]
        if self.sim._log is not None and not self.sim._stopping.is_set():
            self.sim._log(f"graphsim: connection from {client_address[0]} failed: {exc!r}")


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as Graph: msgraph-sdk's httpx pool reuses connections.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK, costing ~40 ms per keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, active=True)

    def finish(self) -> None:
        self.server.track(self.connection, active=False)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # Protocol-level problems (a malformed request line) still reach the log sink;
        # normal requests are logged by _serve() with status, timing and fault.
        if self.server.sim._log is not None:
            self.server.sim._log(f"graphsim: {self.client_address[0]} {format % args}")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    # -- one request -----------------------------------------------------------------
    def _serve(self) -> None:
        sim = self.server.sim
        started = time.perf_counter()
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        ids = _Ids.for_request(headers)
        try:
            body = self._read_body(headers)
        except GraphError as error:
            self.close_connection = True  # an unread body would corrupt the next request
            self._write(ids.error(error), ids)
            self._log_line(error.status, started)
            return

        if is_control_path(split.path):
            try:
                reply = handle_control(sim, self.command, split.path, body)
            except GraphError as error:
                reply = ids.error(error)
            self._write(reply, ids)
            self._log_line(reply.status, started, note="control")
            return

        version, path = _split_version(split.path)
        query = parse_qs(split.query, keep_blank_values=True)

        def record(status: int | None) -> None:
            # Before the response is written: a client holding its answer finds its request.
            sim._requests.append(
                RecordedRequest(
                    self.command,
                    version,
                    unquote(path),
                    query,
                    headers,
                    body,
                    _try_json(body),
                    status,
                )
            )

        fault = sim._faults.take(self.command, path)
        if fault is not None and fault.kind == "drop":
            record(None)
            self._drop()
            self._log_line(None, started, note="fault drop")
            return
        if fault is not None and fault.kind == "slow":
            sim._stopping.wait(fault.delay_seconds)  # stop() interrupts the delay

        if fault is not None and fault.kind in {"status", "malformed"}:
            reply = _fault_reply(fault, ids)
        else:
            reply = self._graph_reply(version, path, query, body, ids)
        record(reply.status)
        self._write(reply, ids)
        self._log_line(reply.status, started, note=f"fault {fault.kind}" if fault else "")

    def _graph_reply(
        self,
        version: str | None,
        path: str,
        query: dict[str, list[str]],
        body: bytes,
        ids: _Ids,
    ) -> Reply:
        try:
            if version is None:
                raise GraphError(404, f"Resource not found for the segment '{path}'.")
            host = self.headers.get("Host")
            origin = f"http://{host}" if host else self.server.sim.base_url
            raw = self.server.sim._raw_pages.get(path.rstrip("/").lower())
            if raw is not None and raw.matches(self.command, path):
                return raw.reply(origin, version, query)
            request = GraphRequest(self.command, version, path, query, body, origin)
            return self.server.sim._api.handle(request)
        except GraphError as error:
            return ids.error(error)

    def _read_body(self, headers: dict[str, str]) -> bytes:
        """The request body. Chunked uploads are refused (411): msgraph-sdk and httpx send
        a Content-Length for in-memory bodies, so decoding chunks would be dead code."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise GraphError(411, "A Content-Length header is required.")
        raw = headers.get("content-length") or "0"
        if not raw.isdigit():
            raise GraphError(400, f"Invalid Content-Length header '{raw}'.")
        length = int(raw)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, reply: Reply, ids: _Ids) -> None:
        # send_response() would add a "Server" header, which Graph does not send.
        self.send_response_only(reply.status)
        self.send_header("Date", self.date_time_string())
        no_body = reply.status == 204 or reply.status < 200
        if reply.content_type and not no_body:
            self.send_header("Content-Type", reply.content_type)
        if reply.content_type == GRAPH_CONTENT_TYPE:
            self.send_header("OData-Version", "4.0")
        self.send_header("request-id", ids.request_id)
        self.send_header("client-request-id", ids.client_request_id)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if not no_body:
            self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if reply.body and not no_body and self.command != "HEAD":
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        """Close the connection without a byte of response (a network failure)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _log_line(self, status: int | None, started: float, note: str = "") -> None:
        log = self.server.sim._log
        if log is None:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        answered = "dropped" if status is None else str(status)
        suffix = f" [{note}]" if note else ""
        log(
            f'graphsim: {self.client_address[0]} "{self.command} {self.path}" '
            f"{answered} {elapsed_ms:.1f}ms{suffix}"
        )


@dataclass(frozen=True)
class _Ids:
    """Graph's correlation ids: a fresh request-id; client-request-id echoed when sent
    (msgraph-sdk sends one), else equal to request-id."""

    request_id: str
    client_request_id: str

    @classmethod
    def for_request(cls, headers: dict[str, str]) -> _Ids:
        request_id = str(uuid.uuid4())
        return cls(request_id, headers.get("client-request-id") or request_id)

    def error(self, error: GraphError) -> Reply:
        return error_reply(
            error,
            date=format_inner_error_date(datetime.now(UTC)),
            request_id=self.request_id,
            client_request_id=self.client_request_id,
        )


def _fault_reply(fault: Fault, ids: _Ids) -> Reply:
    if fault.kind == "malformed":
        return Reply(200, MALFORMED_BODY)
    assert fault.status is not None  # Fault validates this for kind "status"
    extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    message = fault.message or DEFAULT_ERROR_MESSAGES.get(
        fault.status, f"Injected fault: HTTP {fault.status}."
    )
    return ids.error(GraphError(fault.status, message, fault.code, extra))


def _split_version(raw_path: str) -> tuple[str | None, str]:
    """("v1.0", "/deviceManagement/...") from "/v1.0/deviceManagement/..."."""
    _, _, rest = raw_path.partition("/")
    head, slash, tail = rest.partition("/")
    for version in VERSIONS:
        if head.lower() == version:
            return version, slash + tail or "/"
    return None, raw_path


def _try_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
