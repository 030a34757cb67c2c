"""Options by name: the Python classes pass their keyword arguments to libcustomerio's options
tables (customerio/options.h) by name; names, types, ranges and defaults are checked in C."""
from __future__ import annotations

import pytest

import customerio_native as cio
from customerio_native import _native as _n
from customerio_native._core import NativeClient, native_options
from conftest import API_KEY, SITE_ID


def test_tables_list_every_option_with_a_doc():
    client = native_options(_n.CIO_CONFIG_CLIENT)
    pipeline = native_options(_n.CIO_CONFIG_PIPELINE)
    names = [name for name, _, _ in client]
    assert names[:4] == ["site_id", "api_key", "app_api_key", "region"]
    assert {"timeout_ms", "cdp_batch_path", "max_connections"} <= set(names)
    assert {"when_full", "linger_ms", "max_attempts"} <= {name for name, _, _ in pipeline}
    assert dict((n, t) for n, t, _ in client)["api_key"] == "secret"
    assert dict((n, t) for n, t, _ in pipeline)["when_full"] == "enum"
    assert all(len(doc) > 10 for _, _, doc in client + pipeline)
    assert _n.cio_config_option(_n.CIO_CONFIG_CLIENT, len(client)) is None


def test_an_option_only_c_knows_passes_through(mock):
    # backoff_max_ms has no keyword in the official-style classes: NativeClient takes it by name.
    native = NativeClient(cio.CustomerIOException, site_id=SITE_ID, api_key=API_KEY,
                          track_url=mock.url, backoff_max_ms=5, user_agent="opts/1")
    try:
        native.call(_n.cio_identify, "u1", '{"a":1}')
    finally:
        native.close()
    req = mock.only()
    assert req["path"] == "/api/v1/customers/u1"
    assert req["headers"]["user-agent"] == "opts/1"


def test_unknown_names_and_bad_values_are_refused_naming_the_option():
    with pytest.raises(cio.CustomerIOException, match='unknown client option "colour"') as e:
        NativeClient(cio.CustomerIOException, colour="red")
    assert e.value.code_name == "invalid argument"
    with pytest.raises(cio.CustomerIOException, match='timeout_ms must be a whole number'):
        NativeClient(cio.CustomerIOException, timeout_ms="soon")
    with pytest.raises(cio.PipelineError, match="max_in_flight must be a whole number from 0"):
        cio.Pipeline(SITE_ID, API_KEY, max_in_flight=-1)
    with pytest.raises(cio.PipelineError, match="sink must be one of track_v2, pipelines"):
        cio.Pipeline(SITE_ID, API_KEY, sink="kafka")


def test_secrets_are_never_echoed():
    with pytest.raises(cio.CustomerIOException) as e:
        NativeClient(cio.CustomerIOException, site_id=SITE_ID, api_key="TOPSECRET\r\n",
                     track_url="http://127.0.0.1:9")
    assert "api_key" in str(e.value) and "TOPSECRET" not in str(e.value)


def test_defaults_are_libcustomerio_s(mock):
    # Nothing but the credentials and the host: every other option at the C table's default.
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port) as pipe:
        pipe.identify("u1", plan="pro")
        assert pipe.flush(timeout=10)
    assert [r["path"] for r in mock.requests()] == ["/api/v2/batch"]


def test_the_classes_pass_libcustomerio_options_through(mock):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, user_agent="opts/2",
                       max_connections=2)
    try:
        c.identify(id="u1", plan="pro")
    finally:
        c.close()
    assert mock.only()["headers"]["user-agent"] == "opts/2"
    mock.clear()
    cio.APIClient("app-key", url=mock.url, user_agent="opts/3", max_attempts=1).close()
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, linger_ms=1,
                      user_agent="opts/4") as pipe:
        pipe.identify("u2")
        assert pipe.flush(timeout=10)
    assert mock.only()["headers"]["user-agent"] == "opts/4"


def test_other_keywords_are_still_a_type_error():
    with pytest.raises(TypeError, match="CustomerIO\\(\\) got an unexpected keyword argument "
                                        "'colour'"):
        cio.CustomerIO(SITE_ID, API_KEY, colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        cio.Pipeline(SITE_ID, API_KEY, colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        cio.APIClient("k", colour="red")
