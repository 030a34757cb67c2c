"""Security properties of the Python package (SECURITY.md): TLS certificates are verified by
default, keys never appear in exceptions, logs or reprs, and CR/LF never reaches a header or URL.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import subprocess
from typing import Iterator

import pytest

import customerio_native as cio
from customerio_native import _native as _n
from customerio_native._core import NativeClient
from customerio_native.analytics import Client as AnalyticsClient
from customerio_native.analytics.errors import APIError

from conftest import API_KEY, APP_API_KEY, CDP_API_KEY, SITE_ID, Mock, run_mock

SECRET = "py-s3cret-WRONG-4f2a"


# ---- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """The emulator serving HTTPS with a self-signed certificate for 127.0.0.1 (cert.pem is
    exposed as tls_mock.cert)."""
    d: pathlib.Path = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True, capture_output=True)
    with run_mock(extra_args=["--tls-cert", str(d / "cert.pem"),
                              "--tls-key", str(d / "key.pem")]) as m:
        m.cert = str(d / "cert.pem")  # type: ignore[attr-defined]
        yield m


def _assert_certificate_refused(e: BaseException) -> None:
    assert e.code == _n.CIO_E_NETWORK, e  # type: ignore[attr-defined]
    assert "certificate" in str(e), e
    assert e.attempts == 1, "a certificate failure is not retried"  # type: ignore[attr-defined]


def test_sync_client_refuses_a_self_signed_server_by_default(tls_mock):
    with cio.CustomerIO(SITE_ID, API_KEY, host="https://127.0.0.1", port=tls_mock.port,
                        retries=3) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify(id="42", plan="tls")
    _assert_certificate_refused(info.value)


def test_async_client_refuses_a_self_signed_server_by_default(tls_mock):
    async def go() -> None:
        async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="https://127.0.0.1",
                                       port=tls_mock.port) as c:
            with pytest.raises(cio.BaseAsyncCustomerIOError) as info:
                await c.identify(id="42", plan="tls")
        _assert_certificate_refused(info.value)

    asyncio.run(go())


def test_host_without_scheme_is_https_whatever_the_port(tls_mock):
    # customerio 3.2 builds "https://{host}:{port}/{prefix}"; ours did http for a port other
    # than 443, sending HTTP Basic credentials in clear text to host="proxy.internal", port=8443.
    with cio.CustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=tls_mock.port,
                        ca_file=tls_mock.cert) as c:
        assert c.base_url == "https://127.0.0.1:{}/api/v1".format(tls_mock.port)
        assert c.identify(id="42", plan="tls").status_code == 200

    async def go() -> None:
        async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=tls_mock.port,
                                       ca_file=tls_mock.cert) as a:
            await a.identify(id="42", plan="tls")

    asyncio.run(go())


def test_host_without_scheme_sends_nothing_in_clear_to_a_plain_http_port(mock):
    with cio.CustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=mock.port, retries=0) as c:
        with pytest.raises(cio.CustomerIOException):
            c.identify(id="42", plan="clear")
    assert mock.requests() == []


def test_app_and_pipelines_clients_refuse_a_self_signed_server_by_default(tls_mock):
    url = "https://127.0.0.1:{}".format(tls_mock.port)
    with cio.APIClient("py-app-key", url=url, retries=0) as api:
        with pytest.raises(cio.CustomerIOException) as info:
            api.segments.list()
    _assert_certificate_refused(info.value)
    c = AnalyticsClient("py-cdp-key", host=url, sync_mode=True)
    try:
        with pytest.raises(Exception) as info2:
            c.track("u", "e")
        assert "certificate" in str(info2.value), info2.value
    finally:
        c.shutdown()


def test_the_same_server_is_accepted_with_its_certificate_as_ca_file(tls_mock):
    """The refusals above are certificate verification: given the CA, the same call passes."""
    url = "https://127.0.0.1:{}".format(tls_mock.port)
    native = NativeClient(cio.CustomerIOException, site_id=SITE_ID, api_key=API_KEY,
                          track_url=url, ca_file=tls_mock.cert)
    try:
        native.call(_n.cio_identify, "42", '{"plan":"tls"}')  # raises on any failure
    finally:
        native.close()


def test_every_client_takes_a_ca_file(tls_mock):
    """ca_file (ours; the official clients have none): the CAs to trust instead of the system's,
    e.g. a TLS-inspecting proxy's. Every public class passes it to libcustomerio."""
    url = "https://127.0.0.1:{}".format(tls_mock.port)
    cert = tls_mock.cert  # every call below raises unless its request was answered 2xx
    with cio.CustomerIO(SITE_ID, API_KEY, host="https://127.0.0.1", port=tls_mock.port,
                        ca_file=cert) as c:
        c.identify(id="42", plan="tls")
    with cio.APIClient(APP_API_KEY, url=url, ca_file=cert) as api:
        assert "segments" in api.segments.list()

    async def go() -> None:
        async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="https://127.0.0.1",
                                       port=tls_mock.port, ca_file=cert) as a:
            await a.identify(id="43", plan="tls")
        async with cio.AsyncAPIClient(APP_API_KEY, url=url, ca_file=cert) as aapi:
            assert "segments" in await aapi.segments.list()

    asyncio.run(go())
    with cio.Pipeline(SITE_ID, API_KEY, host="https://127.0.0.1", port=tls_mock.port,
                      ca_file=cert) as pipe:
        pipe.track("44", "tls")
        assert pipe.flush(timeout=30)
        assert pipe.stats()["delivered"] == 1
    c2 = AnalyticsClient(CDP_API_KEY, host=url, sync_mode=True, ca_file=cert)
    try:
        ok, _ = c2.track("45", "tls")
        assert ok
    finally:
        c2.shutdown()


# ---- keys never in exceptions, logs or reprs --------------------------------------------------


def _assert_no_secret(*texts: object) -> None:
    for t in texts:
        assert SECRET not in str(t), t


def test_wrong_track_key_401_exception_and_logs_never_contain_the_key(mock, caplog):
    caplog.set_level(logging.DEBUG, logger="customerio_native")
    with cio.CustomerIO(SITE_ID, SECRET, host=mock.host, port=mock.port) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify(id="42")
        _assert_no_secret(repr(c), str(c))
    e = info.value
    assert e.status == 401 and e.code == _n.CIO_E_AUTH
    assert str(e) == ("identify: HTTP 401 (check the credentials and the region) after 1 attempt: "
                      "Unauthorized request")
    _assert_no_secret(str(e), repr(e), e.args, e.body, e.message)
    _assert_no_secret(caplog.text)
    assert "client created" in caplog.text


def test_wrong_key_async_app_and_pipelines_errors_never_contain_the_key(mock, caplog):
    caplog.set_level(logging.DEBUG)

    async def go() -> BaseException:
        async with cio.AsyncCustomerIO(SITE_ID, SECRET, host=mock.host, port=mock.port) as c:
            _assert_no_secret(repr(c))
            with pytest.raises(cio.BaseAsyncCustomerIOError) as info:
                await c.track(customer_id="42", name="e")
            return info.value

    e = asyncio.run(go())
    assert e.status == 401  # type: ignore[attr-defined]
    _assert_no_secret(str(e), repr(e), e.args, e.body)  # type: ignore[attr-defined]

    with cio.APIClient(SECRET, url=mock.url) as api:
        _assert_no_secret(repr(api), repr(api.customers))
        with pytest.raises(cio.CustomerIOException) as info:
            api.customers.get_attributes("42")
    assert info.value.status == 401
    _assert_no_secret(str(info.value), repr(info.value), info.value.body)

    c = AnalyticsClient(SECRET, host=mock.url, sync_mode=True)
    try:
        _assert_no_secret(repr(c))
        with pytest.raises(APIError) as info3:
            c.identify("42", {"plan": "x"})
        assert info3.value.status == 401
        _assert_no_secret(str(info3.value), repr(info3.value), info3.value.args)
    finally:
        c.shutdown()
    _assert_no_secret(caplog.text)


def test_background_pipeline_reports_never_contain_the_key(mock, caplog):
    caplog.set_level(logging.DEBUG)
    reports = []
    with cio.CustomerIO(SITE_ID, SECRET, host=mock.host, port=mock.port, background=True,
                        pipeline_options={"on_error": reports.append}) as c:
        _assert_no_secret(repr(c.pipeline))
        c.identify(id="42")
        c.flush(10)
    assert reports and all(r.status == 401 for r in reports), reports
    _assert_no_secret(*[repr(r) for r in reports])
    _assert_no_secret(caplog.text)


def test_credentials_in_a_custom_url_are_not_logged(mock, caplog):
    caplog.set_level(logging.DEBUG, logger="customerio_native")
    url = "http://user:{}@127.0.0.1:{}".format(SECRET, mock.port)
    with cio.APIClient("py-app-key", url=url):
        pass
    assert "client created" in caplog.text
    _assert_no_secret(caplog.text)


# ---- CR/LF never reaches a header or URL ------------------------------------------------------


@pytest.mark.parametrize("bad", ["x\r\nX-Evil: 1", "x\n", "x\r"])
def test_crlf_in_keys_urls_and_ids_is_refused_before_sending(mock, bad):
    with pytest.raises(cio.CustomerIOException) as info:
        cio.CustomerIO(SITE_ID, "k" + bad, host=mock.host, port=mock.port)
    assert "api_key contains a control character" in str(info.value)
    assert bad not in str(info.value)
    with pytest.raises(cio.CustomerIOException):
        cio.CustomerIO(SITE_ID + bad, API_KEY, host=mock.host, port=mock.port)
    with pytest.raises(cio.CustomerIOException, match="app_url"):
        cio.APIClient("py-app-key", url=mock.url + bad)
    with pytest.raises(cio.CustomerIOException, match="track_url"):
        cio.CustomerIO(SITE_ID, API_KEY, host=mock.host + bad + ".example", port=mock.port)
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port) as c:
        for call in (lambda: c.identify(id="a" + bad),
                     lambda: c.delete_device("42", "tok" + bad),
                     lambda: c.suppress("a" + bad)):
            with pytest.raises(cio.CustomerIOException, match="control character"):
                call()
    with cio.APIClient("py-app-key", url=mock.url) as api:
        with pytest.raises(cio.CustomerIOException, match="control character"):
            api.customers.get_attributes("a" + bad)
    assert mock.requests() == []


def test_embedded_nul_is_refused_not_truncated(mock):
    """A C string would end at the NUL: "a\\0b" must not become customer "a"."""
    with pytest.raises(ValueError, match="api_key contains an embedded NUL"):
        cio.CustomerIO(SITE_ID, "k\x00x", host=mock.host, port=mock.port)
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port) as c:
        with pytest.raises(ValueError, match="customer_id contains an embedded NUL"):
            c.identify(id="a\x00b")
        with pytest.raises(ValueError, match="embedded NUL"):
            c.delete_device("42", "tok\x00x")
    assert mock.requests() == []


def test_async_app_client_repr_has_no_key(mock):
    async def go() -> None:
        async with cio.AsyncAPIClient(SECRET, url=mock.url) as api:
            _assert_no_secret(repr(api), str(api))

    asyncio.run(go())
