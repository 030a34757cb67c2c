"""The App API client (Bearer app key), name for name the official ``customerio.APIClient``
(3.x), on libcustomerio (customerio/app.h).

Every call blocks until the request succeeded or finally failed (retries included) with the GIL
released, and returns the server's JSON answer as a dict. Failures raise
:class:`~customerio_native.CustomerIOException` with the HTTP status and body.

Beyond the official client: ``send_in_app``, ``send_whatsapp``, ``trigger_broadcast``, and the
``customers``, ``segments`` and ``transactional`` groups with the methods of async-customerio's
``AsyncAPIClient`` (synchronous here).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _app as a
from ._core import NativeClient, client_options, json_response, native_kwargs, region_code
from .errors import CustomerIOException
from .regions import Region, Regions
from .send import (
    SendEmailRequest,
    SendInAppRequest,
    SendInboxMessageRequest,
    SendPushRequest,
    SendSMSRequest,
    SendWhatsAppRequest,
)

__all__ = ["APIClient", "Customers", "Segments", "Transactional"]

Id = Union[str, int]
Run = Callable[[a.Spec], Dict[str, Any]]
_E = CustomerIOException


class Customers:
    """``client.customers``: reads about people. ``id_type`` is "id" (default), "email" or
    "cio_id"."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def get_by_email(self, email: str) -> Dict[str, Any]:
        """``GET /v1/customers?email=`` -> ``{"results": [...]}``."""
        return self._run(a.customers_get_by_email(email))

    def search(self, filter: Dict[str, Any], *, start: Optional[str] = None,
               limit: Optional[int] = None) -> Dict[str, Any]:
        """``POST /v1/customers`` with an audience filter -> ``{"identifiers", "ids",
        "next"}``."""
        return self._run(a.customers_search(filter, start, limit))

    def get_by_ids(self, ids: Sequence[Id], *, id_type: Optional[str] = None) -> Dict[str, Any]:
        """``POST /v1/customers/attributes`` (1 to 100 ids) -> ``{"customers": [...]}``."""
        return self._run(a.customers_get_by_ids(ids, id_type, _E))

    def get_attributes(self, customer_id: Id, *, id_type: Optional[str] = None) -> Dict[str, Any]:
        return self._run(a.customers_get_attributes(customer_id, id_type, _E))

    def get_segments(self, customer_id: Id, *, id_type: Optional[str] = None) -> Dict[str, Any]:
        return self._run(a.customers_get_segments(customer_id, id_type, _E))

    def get_messages(self, customer_id: Id, *, id_type: Optional[str] = None,
                     start: Optional[str] = None, limit: Optional[int] = None,
                     start_ts: Any = None, end_ts: Any = None) -> Dict[str, Any]:
        return self._run(a.customers_get_messages(customer_id, id_type, start, limit, start_ts,
                                                  end_ts, _E))

    def get_activities(self, customer_id: Id, *, id_type: Optional[str] = None,
                       start: Optional[str] = None, limit: Optional[int] = None,
                       type: Optional[str] = None, name: Optional[str] = None) -> Dict[str, Any]:
        return self._run(a.customers_get_activities(customer_id, id_type, start, limit, type,
                                                    name, _E))

    def get_relationships(self, customer_id: Id, *, start: Optional[str] = None,
                          limit: Optional[int] = None,
                          id_type: Optional[str] = None) -> Dict[str, Any]:
        return self._run(a.customers_get_relationships(customer_id, id_type, start, limit, _E))

    def get_subscription_preferences(self, customer_id: Id, *, id_type: Optional[str] = None,
                                     language: Optional[str] = None) -> Dict[str, Any]:
        return self._run(a.customers_get_subscription_preferences(customer_id, id_type,
                                                                  language, _E))


class Segments:
    """``client.segments``."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def list(self) -> Dict[str, Any]:
        return self._run(a.segments_list())

    def get(self, segment_id: Id) -> Dict[str, Any]:
        return self._run(a.segments_get(segment_id))

    def create(self, name: str, *, description: Optional[str] = None) -> Dict[str, Any]:
        """Creates a manual segment."""
        return self._run(a.segments_create(name, description))

    def delete(self, segment_id: Id) -> Dict[str, Any]:
        return self._run(a.segments_delete(segment_id))

    def get_customer_count(self, segment_id: Id) -> Dict[str, Any]:
        return self._run(a.segments_customer_count(segment_id))

    def get_membership(self, segment_id: Id, *, start: Optional[str] = None,
                       limit: Optional[int] = None) -> Dict[str, Any]:
        return self._run(a.segments_membership(segment_id, start, limit))

    def get_used_by(self, segment_id: Id) -> Dict[str, Any]:
        return self._run(a.segments_used_by(segment_id))


class Transactional:
    """``client.transactional``: transactional message templates."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def list(self) -> Dict[str, Any]:
        return self._run(a.transactional_list())

    def get(self, transactional_id: Id) -> Dict[str, Any]:
        return self._run(a.transactional_get(transactional_id))

    def list_variants(self, transactional_id: Id) -> Dict[str, Any]:
        return self._run(a.transactional_list_variants(transactional_id))

    def get_variant(self, transactional_id: Id, language: str) -> Dict[str, Any]:
        return self._run(a.transactional_get_variant(transactional_id, language))

    def update_content(self, transactional_id: Id, content_id: Id, *, body: Optional[str] = None,
                       body_amp: Optional[str] = None, from_id: Optional[int] = None,
                       headers: Optional[List[Dict[str, str]]] = None,
                       preheader_text: Optional[str] = None, recipient: Optional[str] = None,
                       reply_to_id: Optional[int] = None,
                       subject: Optional[str] = None) -> Dict[str, Any]:
        """Replaces a content variant (fields left None are not sent)."""
        return self._run(a.transactional_update_content(transactional_id, content_id, dict(
            body=body, body_amp=body_amp, from_id=from_id, headers=headers,
            preheader_text=preheader_text, recipient=recipient, reply_to_id=reply_to_id,
            subject=subject)))

    def update_variant(self, transactional_id: Id, language: str, *, body: Optional[str] = None,
                       body_amp: Optional[str] = None, from_id: Optional[int] = None,
                       headers: Optional[List[Dict[str, str]]] = None,
                       preheader_text: Optional[str] = None, recipient: Optional[str] = None,
                       reply_to_id: Optional[int] = None,
                       subject: Optional[str] = None) -> Dict[str, Any]:
        """Replaces one translation (fields left None are not sent)."""
        return self._run(a.transactional_update_variant(transactional_id, language, dict(
            body=body, body_amp=body_amp, from_id=from_id, headers=headers,
            preheader_text=preheader_text, recipient=recipient, reply_to_id=reply_to_id,
            subject=subject)))

    def get_metrics(self, transactional_id: Id, *, period: Optional[str] = None,
                    steps: Optional[int] = None) -> Dict[str, Any]:
        return self._run(a.transactional_metrics(transactional_id, period, steps))

    def get_link_metrics(self, transactional_id: Id, *, period: Optional[str] = None,
                         steps: Optional[int] = None,
                         unique: Optional[bool] = None) -> Dict[str, Any]:
        return self._run(a.transactional_link_metrics(transactional_id, period, steps, unique))

    def get_deliveries(self, transactional_id: Id, *, start: Optional[str] = None,
                       limit: Optional[int] = None, metric: Optional[str] = None,
                       state: Optional[str] = None, start_ts: Any = None, end_ts: Any = None,
                       get_tracked_responses: Optional[bool] = None) -> Dict[str, Any]:
        return self._run(a.transactional_deliveries(transactional_id, start, limit, metric,
                                                    state, start_ts, end_ts,
                                                    get_tracked_responses))


class APIClient:
    """App API client.

    :param key: the App API key (Bearer); None reads ``CUSTOMERIO_APP_API_KEY``.
    :param url: a base URL replacing the region's App host (``https://api.customer.io``): a
        proxy, a relay, the emulator (``http://127.0.0.1:8080``). Paths (``/v1/send/email``,
        ...) are appended to it.
    :param region: :attr:`Regions.US` (default) or :attr:`Regions.EU`.
    :param retries: retries after the first attempt (network errors, timeouts, 408, 429, 5xx).
    :param timeout: seconds one attempt may take.
    :param backoff_factor: seconds; the base of the exponential backoff between retries.
    :param use_connection_pooling: accepted for compatibility (connections are always kept
        alive in one pool per client).
    :param options: further keyword arguments named after libcustomerio client options
        (``timeout_ms``, ``backoff_max_ms``, ...; see customerio/options.h), passed through by
        name; a bad value raises naming the option.
    """

    def __init__(
        self,
        key: Optional[str] = None,
        url: Optional[str] = None,
        region: Region = Regions.US,
        retries: int = 3,
        timeout: float = 10,
        backoff_factor: float = 0.02,
        use_connection_pooling: bool = True,
        *,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._native: Optional[NativeClient] = None
        region_value = region_code(region, CustomerIOException)
        self.key = key
        self.region = region
        app_url = url.rstrip("/") if url else None
        self.url = app_url or "https://{}".format(region.api_host)
        self.retries = retries
        self.timeout = timeout
        self.backoff_factor = backoff_factor
        self.use_connection_pooling = use_connection_pooling
        self._native = NativeClient(
            CustomerIOException,
            **native_kwargs(
                "APIClient", options,
                app_api_key=key,
                region=region_value,
                app_url=app_url,
                **client_options(retries=retries, timeout=timeout, backoff_factor=backoff_factor,
                                 ca_file=ca_file),
            ),
        )
        self.customers = Customers(self._run)
        self.segments = Segments(self._run)
        self.transactional = Transactional(self._run)

    def _run(self, spec: a.Spec) -> Dict[str, Any]:
        if self._native is None:  # pragma: no cover - __init__ failed half-way
            raise CustomerIOException("the client is closed")
        return json_response(self._native.call(*spec))

    def close(self) -> None:
        """Frees the client's engine. Idempotent."""
        if self._native is not None:
            self._native.close()

    def __enter__(self) -> "APIClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # ---- transactional messages -----------------------------------------------------------

    def send_email(self, request: Union[SendEmailRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        """``POST /v1/send/email`` -> ``{"delivery_id", "queued_at"}``. ``request`` is a
        :class:`SendEmailRequest` or the request dict."""
        return self._run(a.send("email", request, _E))

    def send_push(self, request: Union[SendPushRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        """``POST /v1/send/push``."""
        return self._run(a.send("push", request, _E))

    def send_sms(self, request: Union[SendSMSRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        """``POST /v1/send/sms``."""
        return self._run(a.send("sms", request, _E))

    def send_inbox_message(
        self, request: Union[SendInboxMessageRequest, Mapping[str, Any]]
    ) -> Dict[str, Any]:
        """``POST /v1/send/inbox_message``."""
        return self._run(a.send("inbox_message", request, _E))

    def send_in_app(self, request: Union[SendInAppRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        """``POST /v1/send/in_app``."""
        return self._run(a.send("in_app", request, _E))

    def send_whatsapp(
        self, request: Union[SendWhatsAppRequest, Mapping[str, Any]]
    ) -> Dict[str, Any]:
        """``POST /v1/send/whatsapp``."""
        return self._run(a.send("whatsapp", request, _E))

    def trigger_broadcast(self, broadcast_id: Id, data: Optional[Mapping[str, Any]] = None,
                          **audience: Any) -> Dict[str, Any]:
        """``POST /v1/campaigns/{broadcast_id}/triggers`` -> ``{"id": <trigger id>}``.
        ``data`` is the trigger data; ``audience`` at most one of ``recipients``, ``emails``,
        ``ids``, ``per_user_data``, ``data_file_url``, plus the flags
        ``email_add_duplicates``, ``email_ignore_missing``, ``id_ignore_missing``."""
        return self._run(a.trigger_broadcast(broadcast_id, data, audience, _E))
