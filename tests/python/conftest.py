"""Fixtures: the cio-mock emulator (one per session, on a free port), its request log cleared
before every test, and clients pointed at it."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import tempfile
import time
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest

import customerio_native as cio

REPO = pathlib.Path(__file__).resolve().parents[2]
SITE_ID = "py-site"
API_KEY = "py-key"
APP_API_KEY = "py-app-key"
CDP_API_KEY = "py-cdp-key"


class Mock:
    """The running emulator and its control endpoints (/_mock/...)."""

    def __init__(self, port: int) -> None:
        # With a scheme: without one, host/port mean https, as in the official clients.
        self.host = "http://127.0.0.1"
        self.port = port
        self.url = "http://127.0.0.1:{}".format(port)

    def _control(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/_mock/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def requests(self) -> List[Dict[str, Any]]:
        """Every request received since the last clear, in arrival order."""
        return self._control("GET", "requests")

    def clear(self) -> None:
        self._control("DELETE", "requests")

    def fault(self, **spec: Any) -> None:
        """Makes the next requests fail: count, status, body, delay_ms, retry_after, action."""
        self._control("POST", "faults", spec)

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def only(self) -> Dict[str, Any]:
        """The one request received (fails when there is not exactly one)."""
        reqs = self.requests()
        assert len(reqs) == 1, reqs
        return reqs[0]


@contextlib.contextmanager
def run_mock(cdp_api_key: str = CDP_API_KEY, extra_args: Sequence[str] = ()) -> Iterator[Mock]:
    """An emulator process on a free port, with the test credentials (and extra_args, e.g.
    ``--tls-cert``/``--tls-key``)."""
    default = REPO / "build" / "mock" / "cio-mock"
    binary = pathlib.Path(os.environ.get("CIO_MOCK_BIN", str(default)))
    if not binary.exists():
        pytest.fail("emulator not found at {} (run `make build` or set CIO_MOCK_BIN)".format(
            binary))
    with tempfile.TemporaryDirectory() as tmp:
        port_file = pathlib.Path(tmp) / "port"
        log = open(pathlib.Path(tmp) / "mock.log", "wb")
        proc = subprocess.Popen(
            [str(binary), "--port", "0", "--port-file", str(port_file), "--site-id", SITE_ID,
             "--api-key", API_KEY, "--app-api-key", APP_API_KEY, "--cdp-api-key", cdp_api_key,
             *extra_args],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("cio-mock did not start")
                time.sleep(0.02)
            yield Mock(int(port_file.read_text().strip()))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
            log.close()


@pytest.fixture(scope="session")
def mock_server():
    with run_mock() as m:
        yield m


@pytest.fixture(autouse=True)
def mock(mock_server: Mock) -> Mock:
    mock_server.clear_faults()
    mock_server.clear()
    return mock_server


@pytest.fixture
def client(mock: Mock):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, backoff_factor=0.001)
    yield c
    c.close()


@pytest.fixture
async def aclient(mock: Mock):
    c = cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    yield c
    await c.close()


def body(req: Dict[str, Any]) -> Any:
    """A logged request's body parsed as JSON (None when empty)."""
    text = req.get("body") or ""
    return json.loads(text) if text else None


def in_forked_child(work: Callable[[], Any]) -> int:
    """Runs work() in a forked child; its exit status: 0 when work returned, 1 when it raised."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status)

