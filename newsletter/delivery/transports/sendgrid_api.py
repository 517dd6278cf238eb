"""SendGrid's API beside the mail-send loop: the client (key only from the environment,
host checked, a timeout on every request), batch ids for scheduling, SendGrid's errors."""

from __future__ import annotations

import json
import os
from typing import Any

from python_http_client import exceptions as http

from newsletter.errors import ConfigError, DeliveryError
from newsletter.workspace.config import SendGrid
from newsletter.workspace.loading import sendgrid_host_problem

KEY_ENV = "SENDGRID_API_KEY"
HOST_ENV = "SENDGRID_API_HOST"


def api_host(settings: SendGrid) -> str:
    """SENDGRID_API_HOST, else the configured host; the environment value is checked
    like the configured one, since the key goes wherever it points (never echoed: it
    might hold a password)."""
    host = os.environ.get(HOST_ENV) or ""
    if host:
        problem = sendgrid_host_problem(host)
        if problem:
            raise ConfigError(f"{HOST_ENV}: {problem}")
    else:
        host = settings.host
    return host.rstrip("/")  # the client appends "/v3/..."


def api_client(settings: SendGrid, purpose: str):  # type: ignore[no-untyped-def]
    """The official client: key only from the environment, host configurable, and a
    timeout on every request (the library's default is none)."""
    import sendgrid

    api = sendgrid.SendGridAPIClient(api_key=api_key(purpose), host=api_host(settings))
    api.client.timeout = settings.timeout
    return api


def create_batch(settings: SendGrid) -> str:
    """A batch id, so that a scheduled send can be cancelled as a whole."""
    api = api_client(settings, "to schedule through SendGrid")
    try:
        response = api.client.mail.batch.post()
    except (http.HTTPError, OSError) as err:
        raise DeliveryError(f"SendGrid did not create a batch id: {describe(err)}") from None
    return str(json.loads(response.body)["batch_id"])


def cancel_batch(settings: SendGrid, batch_id: str) -> None:
    api = api_client(settings, "to cancel through SendGrid")
    try:
        api.client.user.scheduled_sends.post(request_body={"batch_id": batch_id,
                                                           "status": "cancel"})
    except (http.HTTPError, OSError) as err:
        raise DeliveryError(f"SendGrid did not cancel batch {batch_id}: "
                            f"{describe(err)}") from None


def api_key(purpose: str) -> str:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ConfigError(f"set {KEY_ENV} {purpose}")
    return key


def describe(err: Exception) -> str:
    if isinstance(err, http.HTTPError):
        return f"{getattr(err, 'status_code', '?')}: {errors_of(err)}"
    return type(err).__name__


def errors_of(err: http.HTTPError) -> str:
    """SendGrid's own error messages from the response body (never the request)."""
    return "; ".join(error_text(e) for e in error_list(err)) or "no details"


def error_list(err: http.HTTPError) -> list[dict[str, Any]]:
    try:
        data = json.loads(err.body or b"{}")
        return [e for e in data.get("errors", []) if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError):
        return []


def error_text(error: dict[str, Any]) -> str:
    """``message (field)``: the field says which recipient SendGrid meant."""
    message, field = str(error.get("message") or ""), error.get("field")
    return f"{message} ({field})" if field else message


