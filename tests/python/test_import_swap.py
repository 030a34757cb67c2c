"""Code written for the official clients runs unchanged when only the import changes."""

from __future__ import annotations

import re
import textwrap

import customerio_native
from conftest import API_KEY, REPO, SITE_ID, body

# Written against the official `customerio` package (3.x); the emulator stands in for
# track.customer.io through the client's own host/port arguments.
OFFICIAL_SYNC = """
from customerio import CustomerIO, CustomerIOException, Regions
from datetime import datetime

cio = CustomerIO(site_id, api_key, host=host, port=port, region=Regions.US,
                 retries=2, timeout=5, backoff_factor=0.01)
cio.identify(id="5", email="customer@example.com", name="Bob", plan="premium",
             created_at=datetime(2023, 11, 14, 22, 13, 20))
cio.track(customer_id="5", name="product.purchased", product_sku="XYZ-12345", price=23.45)
cio.track_anonymous(anonymous_id="anon-1", name="invite", email="x@example.com")
cio.pageview(customer_id="5", page="http://example.com/products/xyz-12345",
             product_sku="XYZ-12345")
cio.backfill(customer_id="5", name="signup", timestamp=1380000000, plan="free")
cio.add_device(customer_id="1", device_id="device_hash", platform="ios")
cio.delete_device(customer_id="1", device_id="device_hash")
cio.suppress(customer_id="1")
cio.unsuppress(customer_id="1")
cio.merge_customers(primary_id_type="email", primary_id="cool.person@company.com",
                    secondary_id_type="cio_id", secondary_id="cio_3000001")
cio.delete(customer_id="5")
try:
    cio.identify(id="")
except CustomerIOException as e:
    caught = str(e)
"""

# async-customerio's README "Getting started", unchanged but for the import (and the
# emulator's host/port).
OFFICIAL_ASYNC = """
import asyncio

from async_customerio import AsyncCustomerIO, Regions


async def main():
    site_id = "Some-id-gotten-from-CustomerIO"
    api_key = "Some-key-gotten-from-CustomerIO"
    cio = AsyncCustomerIO(site_id, api_key, region=Regions.US, host=host, port=port)
    await cio.identify(
        id=5,
        email="customer@example.com",
        first_name="John",
        last_name="Doh",
        subscription_plan="premium",
    )
    await cio.track(
        customer_id=5, name="product.purchased", product_sku="XYZ-12345", price=23.45
    )


if __name__ == "__main__":
    asyncio.run(main())
"""


def swapped(source: str, official: str) -> str:
    """The same code with only the import changed."""
    return textwrap.dedent(source).replace("from {} import".format(official),
                                           "from customerio_native import")


def test_official_sync_code_runs_unchanged(mock):
    scope = {"site_id": SITE_ID, "api_key": API_KEY, "host": mock.host, "port": mock.port}
    exec(compile(swapped(OFFICIAL_SYNC, "customerio"), "official_sync", "exec"), scope)
    assert scope["caught"] == "identify: customer_id is empty"
    reqs = mock.requests()
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("PUT", "/api/v1/customers/5"),
        ("POST", "/api/v1/customers/5/events"),
        ("POST", "/api/v1/events"),
        ("POST", "/api/v1/customers/5/events"),
        ("POST", "/api/v1/customers/5/events"),
        ("PUT", "/api/v1/customers/1/devices"),
        ("DELETE", "/api/v1/customers/1/devices/device_hash"),
        ("POST", "/api/v1/customers/1/suppress"),
        ("POST", "/api/v1/customers/1/unsuppress"),
        ("POST", "/api/v1/merge_customers"),
        ("DELETE", "/api/v1/customers/5"),
    ]
    assert body(reqs[0])["created_at"] == 1700000000
    assert all(r["status"] == 200 for r in reqs)
    scope["cio"].close()


def test_module_alias_import(mock):
    customerio = customerio_native  # import customerio_native as customerio
    cio = customerio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    cio.identify(id=1, email="a@example.com")
    assert isinstance(customerio.Regions.EU, customerio.Region)
    assert issubclass(customerio.CustomerIOException, Exception)
    assert mock.only()["path"] == "/api/v1/customers/1"
    cio.close()


def test_async_getting_started_runs_unchanged(mock_server):
    # Verbatim, placeholder credentials included: the emulator refuses them with 401, which
    # shows the request went out as written.
    mock_server.clear()
    scope = {"__name__": "not_main", "host": mock_server.host, "port": mock_server.port}
    exec(compile(swapped(OFFICIAL_ASYNC, "async_customerio"), "official_async", "exec"), scope)
    import asyncio

    try:
        asyncio.run(scope["main"]())
    except customerio_native.AsyncCustomerIOError as e:
        assert e.status == 401
    else:  # pragma: no cover
        raise AssertionError("the emulator should have refused the README's placeholder keys")
    req = mock_server.only()
    assert (req["method"], req["path"]) == ("PUT", "/api/v1/customers/5")
    assert body(req) == {"email": "customer@example.com", "first_name": "John",
                         "last_name": "Doh", "subscription_plan": "premium"}


def test_async_getting_started_with_real_credentials(mock):
    source = swapped(OFFICIAL_ASYNC, "async_customerio")
    source = source.replace('"Some-id-gotten-from-CustomerIO"', repr(SITE_ID))
    source = source.replace('"Some-key-gotten-from-CustomerIO"', repr(API_KEY))
    scope = {"__name__": "__main__", "host": mock.host, "port": mock.port}
    exec(compile(source, "official_async", "exec"), scope)
    assert [(r["method"], r["path"], r["status"]) for r in mock.requests()] == [
        ("PUT", "/api/v1/customers/5", 200), ("POST", "/api/v1/customers/5/events", 200)]


def test_readme_quick_start_is_getting_started_with_the_import_changed():
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    quick_start = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    official = swapped(OFFICIAL_ASYNC, "async_customerio").replace(
        ", host=host, port=port)", ")")
    assert quick_start.strip() == official.strip()
