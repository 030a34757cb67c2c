"""Fixtures for the differential tests: a throw-away certificate authority and a certificate
for 127.0.0.1 (openssl), one emulator serving HTTPS with it, and the environment variables the
official clients take a private CA from (REQUESTS_CA_BUNDLE for requests, SSL_CERT_FILE for
httpx), so that they connect unchanged. Ours reads the same variables (libcustomerio does when
``ca_file`` is not given): the CustomerIO / AsyncCustomerIO pairs rely on them, the other
clients are given ``ca_file``, so both ways stay tested."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import tempfile
from typing import Iterator

import pytest

HERE = pathlib.Path(__file__).resolve().parent

# run_mock, Mock and the test keys of the Python suite (loaded under its own name: both files
# are "conftest").
_spec = importlib.util.spec_from_file_location("cio_python_suite_fixtures",
                                               HERE.parents[1] / "python" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
API_KEY, SITE_ID, Mock, run_mock = (_fixtures.API_KEY, _fixtures.SITE_ID, _fixtures.Mock,
                                    _fixtures.run_mock)

__all__ = ["API_KEY", "SITE_ID", "Mock"]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def tls_files() -> Iterator[pathlib.Path]:
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-subj", "/CN=customerio-native test CA", "-keyout", str(d / "ca.key"),
                 "-out", str(d / "ca.pem"),
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                 "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"))
        (d / "ext.cnf").write_text(
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid,issuer\n"
            "subjectKeyIdentifier=hash\n")
        _openssl("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"),
                 "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "1",
                 "-extfile", str(d / "ext.cnf"), "-out", str(d / "server.pem"))
        yield d


@pytest.fixture(scope="session")
def tls_mock(tls_files: pathlib.Path) -> Iterator[Mock]:
    ca = str(tls_files / "ca.pem")
    saved = {k: os.environ.get(k) for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    os.environ["SSL_CERT_FILE"] = ca
    try:
        with run_mock(extra_args=("--tls-cert", str(tls_files / "server.pem"),
                                  "--tls-key", str(tls_files / "server.key"))) as m:
            m.url = "https://127.0.0.1:{}".format(m.port)
            m.ca_file = ca  # type: ignore[attr-defined]
            yield m
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
