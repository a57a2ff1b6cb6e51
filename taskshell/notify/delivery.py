"""One webhook delivery attempt with httpx, and how long to wait before the next one."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taskshell import __version__

if TYPE_CHECKING:
    import httpx

    from taskshell.notify.store import Integration


@dataclass(frozen=True)
class DeliverySettings:
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_attempts: int = 5
    backoff_base: float = 1.0  # seconds before the second attempt; doubles each time
    backoff_max: float = 60.0
    trust_env: bool = True  # HTTP(S)_PROXY / NO_PROXY from the environment, as curl would

    @property
    def lease_seconds(self) -> float:
        """How long a claimed message stays ours: longer than any one attempt can take."""
        return 2 * (self.connect_timeout + self.read_timeout) + 5.0


@dataclass(frozen=True)
class AttemptResult:
    delivered: bool
    retryable: bool
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from the endpoint's Retry-After header


def retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send(client: httpx.Client, integration: Integration, body: str) -> AttemptResult:
    import httpx  # loaded with the first delivery, not at start-up

    """Send `body` (JSON) to the integration's webhook once; never raises for network trouble."""
    headers = {"Content-Type": "application/json", "User-Agent": f"taskshell/{__version__}"}
    if integration.authorization_header:
        headers["Authorization"] = integration.authorization_header
    try:
        response = client.request(integration.method, integration.url or "", content=body.encode(),
                                  headers=headers)
    except httpx.TimeoutException as exc:
        return AttemptResult(False, True, error=f"timed out: {type(exc).__name__} ({exc})")
    except httpx.TransportError as exc:
        return AttemptResult(False, True, error=f"connection error: {type(exc).__name__} ({exc})")
    except httpx.HTTPError as exc:  # an invalid URL and the like: trying again changes nothing
        return AttemptResult(False, False, error=f"{type(exc).__name__}: {exc}")
    status = response.status_code
    if 200 <= status < 300:
        return AttemptResult(True, False, http_status=status)
    text = response.text.strip().replace("\n", " ")[:200]
    error = f"HTTP {status} {response.reason_phrase}" + (f": {text}" if text else "")
    return AttemptResult(False, retryable_status(status), http_status=status, error=error,
                         retry_after=_retry_after(response.headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def backoff_seconds(attempt: int, settings: DeliverySettings, rng: random.Random | None = None,
                    retry_after: float | None = None) -> float:
    """Wait before attempt `attempt + 1`: exponential, capped, with half of it jittered so that
    many messages failing together do not come back together."""
    ceiling = min(settings.backoff_max, settings.backoff_base * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.backoff_max))
    return delay


def make_client(settings: DeliverySettings) -> httpx.Client:
    import httpx  # loaded with the first delivery, not at start-up

    timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                            write=settings.read_timeout, pool=settings.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=settings.trust_env)
