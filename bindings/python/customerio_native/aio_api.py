"""The asyncio App API client, in the shape of ``async-customerio``'s ``AsyncAPIClient`` (2.x),
on libcustomerio's completion queues (the same engine as
:class:`~customerio_native.AsyncCustomerIO`: each call returns at once, its completion wakes
the event loop through the client's queue descriptor; no thread per request).

Methods: ``send_email``, ``send_push``, ``send_sms``, ``send_inbox_message`` (as in
async-customerio), ``send_in_app``, ``send_whatsapp``, ``trigger_broadcast``, and the groups
``customers``, ``segments`` and ``transactional`` with async-customerio's method names and
arguments. Each returns the server's JSON answer as a dict; failures raise
:class:`~customerio_native.AsyncCustomerIOError` or, for 429/5xx/network errors still failing
after the retries, :class:`~customerio_native.AsyncCustomerIORetryableError`.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _app as a
from ._core import RESULT_JSON, AsyncEngine, NativeClient, client_options, native_kwargs
from ._core import region_code
from .aio import (
    DEFAULT_REQUEST_TIMEOUT,
    AsyncEngineOwner,
    RequestLimits,
    RequestTimeout,
    RetryStrategy,
)
from .errors import AsyncCustomerIOError
from .regions import Region, Regions
from .send import (
    SendEmailRequest,
    SendInAppRequest,
    SendInboxMessageRequest,
    SendPushRequest,
    SendSMSRequest,
    SendWhatsAppRequest,
)

__all__ = ["AsyncAPIClient", "AsyncCustomers", "AsyncSegments", "AsyncTransactional"]

Id = Union[str, int]
Submit = Callable[[a.Spec], Awaitable[Dict[str, Any]]]
_E = AsyncCustomerIOError


class AsyncCustomers:
    """``client.customers`` (async-customerio's ``Customers``)."""

    def __init__(self, submit: Submit) -> None:
        self._submit = submit

    async def get_by_email(self, email: str) -> Dict[str, Any]:
        return await self._submit(a.customers_get_by_email(email))

    async def search(self, filter: Dict[str, Any], *, start: Optional[str] = None,
                     limit: Optional[int] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_search(filter, start, limit))

    async def get_by_ids(self, ids: Sequence[Id], *,
                         id_type: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_by_ids(ids, id_type, _E))

    async def get_attributes(self, customer_id: Id, *,
                             id_type: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_attributes(customer_id, id_type, _E))

    async def get_segments(self, customer_id: Id, *,
                           id_type: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_segments(customer_id, id_type, _E))

    async def get_messages(self, customer_id: Id, *, id_type: Optional[str] = None,
                           start: Optional[str] = None, limit: Optional[int] = None,
                           start_ts: Any = None, end_ts: Any = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_messages(customer_id, id_type, start, limit,
                                                           start_ts, end_ts, _E))

    async def get_activities(self, customer_id: Id, *, id_type: Optional[str] = None,
                             start: Optional[str] = None, limit: Optional[int] = None,
                             type: Optional[str] = None,
                             name: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_activities(customer_id, id_type, start, limit,
                                                             type, name, _E))

    async def get_relationships(self, customer_id: Id, *, start: Optional[str] = None,
                                limit: Optional[int] = None,
                                id_type: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_relationships(customer_id, id_type, start,
                                                                limit, _E))

    async def get_subscription_preferences(self, customer_id: Id, *,
                                           id_type: Optional[str] = None,
                                           language: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.customers_get_subscription_preferences(
            customer_id, id_type, language, _E))


class AsyncSegments:
    """``client.segments`` (async-customerio's ``Segments``)."""

    def __init__(self, submit: Submit) -> None:
        self._submit = submit

    async def list(self) -> Dict[str, Any]:
        return await self._submit(a.segments_list())

    async def get(self, segment_id: Id) -> Dict[str, Any]:
        return await self._submit(a.segments_get(segment_id))

    async def create(self, name: str, *, description: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.segments_create(name, description))

    async def delete(self, segment_id: Id) -> Dict[str, Any]:
        return await self._submit(a.segments_delete(segment_id))

    async def get_customer_count(self, segment_id: Id) -> Dict[str, Any]:
        return await self._submit(a.segments_customer_count(segment_id))

    async def get_membership(self, segment_id: Id, *, start: Optional[str] = None,
                             limit: Optional[int] = None) -> Dict[str, Any]:
        return await self._submit(a.segments_membership(segment_id, start, limit))

    async def get_used_by(self, segment_id: Id) -> Dict[str, Any]:
        return await self._submit(a.segments_used_by(segment_id))


class AsyncTransactional:
    """``client.transactional`` (async-customerio's ``Transactional``)."""

    def __init__(self, submit: Submit) -> None:
        self._submit = submit

    async def list(self) -> Dict[str, Any]:
        return await self._submit(a.transactional_list())

    async def get(self, transactional_id: Id) -> Dict[str, Any]:
        return await self._submit(a.transactional_get(transactional_id))

    async def list_variants(self, transactional_id: Id) -> Dict[str, Any]:
        return await self._submit(a.transactional_list_variants(transactional_id))

    async def get_variant(self, transactional_id: Id, language: str) -> Dict[str, Any]:
        return await self._submit(a.transactional_get_variant(transactional_id, language))

    async def update_content(self, transactional_id: Id, content_id: Id, *,
                             body: Optional[str] = None, body_amp: Optional[str] = None,
                             from_id: Optional[int] = None,
                             headers: Optional[List[Dict[str, str]]] = None,
                             preheader_text: Optional[str] = None,
                             recipient: Optional[str] = None, reply_to_id: Optional[int] = None,
                             subject: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.transactional_update_content(transactional_id, content_id,
            dict(body=body, body_amp=body_amp, from_id=from_id, headers=headers,
                 preheader_text=preheader_text, recipient=recipient, reply_to_id=reply_to_id,
                 subject=subject)))

    async def update_variant(self, transactional_id: Id, language: str, *,
                             body: Optional[str] = None, body_amp: Optional[str] = None,
                             from_id: Optional[int] = None,
                             headers: Optional[List[Dict[str, str]]] = None,
                             preheader_text: Optional[str] = None,
                             recipient: Optional[str] = None, reply_to_id: Optional[int] = None,
                             subject: Optional[str] = None) -> Dict[str, Any]:
        return await self._submit(a.transactional_update_variant(transactional_id, language,
            dict(body=body, body_amp=body_amp, from_id=from_id, headers=headers,
                 preheader_text=preheader_text, recipient=recipient, reply_to_id=reply_to_id,
                 subject=subject)))

    async def get_metrics(self, transactional_id: Id, *, period: Optional[str] = None,
                          steps: Optional[int] = None) -> Dict[str, Any]:
        return await self._submit(a.transactional_metrics(transactional_id, period, steps))

    async def get_link_metrics(self, transactional_id: Id, *, period: Optional[str] = None,
                               steps: Optional[int] = None,
                               unique: Optional[bool] = None) -> Dict[str, Any]:
        return await self._submit(a.transactional_link_metrics(transactional_id, period, steps,
                                                               unique))

    async def get_deliveries(self, transactional_id: Id, *, start: Optional[str] = None,
                             limit: Optional[int] = None, metric: Optional[str] = None,
                             state: Optional[str] = None, start_ts: Any = None,
                             end_ts: Any = None,
                             get_tracked_responses: Optional[bool] = None) -> Dict[str, Any]:
        return await self._submit(a.transactional_deliveries(
            transactional_id, start, limit, metric, state, start_ts, end_ts,
            get_tracked_responses))


class AsyncAPIClient(AsyncEngineOwner):
    """Async App API client.

    :param key: the App API key (Bearer); None reads ``CUSTOMERIO_APP_API_KEY``.
    :param url: a base URL replacing the region's App host (the emulator, a relay).
    :param region: :attr:`Regions.US` (default) or :attr:`Regions.EU`.
    :param retries: retries after the first attempt.
    :param request_timeout: a :class:`RequestTimeout` (seconds per attempt).
    :param request_limits: a :class:`~customerio_native.RequestLimits`; ``max_connections``
        is used (async-customerio 2.18's argument order).
    :param user_agent: the User-Agent header.
    :param retry_strategy: a :class:`~customerio_native.RetryStrategy` wrapping every call
        (libcustomerio then makes one attempt per try); without one, libcustomerio's own
        retries (exponential backoff with jitter, ``Retry-After`` honoured) apply.

    Use ``async with AsyncAPIClient(...) as client:`` or ``await client.close()``.
    """

    API_PREFIX = "/v1"
    SEND_EMAIL_ENDPOINT = "/send/email"
    SEND_PUSH_NOTIFICATION_ENDPOINT = "/send/push"
    SEND_SMS_ENDPOINT = "/send/sms"
    SEND_INBOX_MESSAGE_ENDPOINT = "/send/inbox_message"

    def __init__(
        self,
        key: Optional[str] = None,
        url: Optional[str] = None,
        region: Region = Regions.US,
        retries: int = 3,
        request_timeout: RequestTimeout = DEFAULT_REQUEST_TIMEOUT,
        request_limits: Optional[RequestLimits] = None,
        user_agent: Optional[str] = None,
        retry_strategy: Optional[RetryStrategy] = None,
        *,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._engine: Optional[AsyncEngine] = None
        if retry_strategy is not None and not callable(getattr(retry_strategy, "execute", None)):
            raise AsyncCustomerIOError("retry_strategy must have an async execute() method")
        self._retry_strategy = retry_strategy
        limit = getattr(request_limits, "max_connections", None)
        region_value = region_code(region, AsyncCustomerIOError)
        self.key = key
        self.region = region
        app_url = url.rstrip("/") if url else None
        self.base_url = app_url or "https://{}".format(region.api_host)
        timeout: Any = getattr(request_timeout, "timeout", request_timeout)
        native = NativeClient(
            AsyncCustomerIOError,
            **native_kwargs(
                "AsyncAPIClient", options,
                app_api_key=key,
                region=region_value,
                app_url=app_url,
                user_agent=user_agent,
                max_connections=int(limit) if limit else 0,
                **client_options(retries=0 if retry_strategy is not None else retries,
                                 timeout=timeout, ca_file=ca_file),
            ),
        )
        self._engine = AsyncEngine(native)
        self.customers = AsyncCustomers(self._submit)
        self.segments = AsyncSegments(self._submit)
        self.transactional = AsyncTransactional(self._submit)

    async def _submit(self, spec: a.Spec) -> Dict[str, Any]:
        strategy = self._retry_strategy
        if strategy is not None:
            answer: Dict[str, Any] = await strategy.execute(self._attempt, spec)
            return answer
        return await self._attempt(spec)

    async def _attempt(self, spec: a.Spec) -> Dict[str, Any]:
        if self._engine is None:  # pragma: no cover - __init__ failed half-way
            raise AsyncCustomerIOError("the client is closed")
        return await self._engine.submit(RESULT_JSON, *spec)


    # ---- transactional messages -----------------------------------------------------------

    async def send_email(self, request: Union[SendEmailRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        return await self._submit(a.send("email", request, _E, True))

    async def send_push(self, request: Union[SendPushRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        return await self._submit(a.send("push", request, _E, True))

    async def send_sms(self, request: Union[SendSMSRequest, Mapping[str, Any]]) -> Dict[str, Any]:
        return await self._submit(a.send("sms", request, _E, True))

    async def send_inbox_message(
        self, request: Union[SendInboxMessageRequest, Mapping[str, Any]]
    ) -> Dict[str, Any]:
        return await self._submit(a.send("inbox_message", request, _E, True))

    async def send_in_app(
        self, request: Union[SendInAppRequest, Mapping[str, Any]]
    ) -> Dict[str, Any]:
        return await self._submit(a.send("in_app", request, _E, True))

    async def send_whatsapp(
        self, request: Union[SendWhatsAppRequest, Mapping[str, Any]]
    ) -> Dict[str, Any]:
        return await self._submit(a.send("whatsapp", request, _E, True))

    async def trigger_broadcast(self, broadcast_id: Id, data: Optional[Mapping[str, Any]] = None,
                                **audience: Any) -> Dict[str, Any]:
        """``POST /v1/campaigns/{broadcast_id}/triggers``; see
        :meth:`customerio_native.APIClient.trigger_broadcast`."""
        return await self._submit(a.trigger_broadcast(broadcast_id, data, audience, _E))
