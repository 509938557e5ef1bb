"""Heartbeats: each device's state reported to the hub every few seconds.

The hub keeps each device's status, counters and last reading, and the site's last sign
of life, so that a site gone dark (network or power cut) can be flagged. Heartbeats are
not queued: a missed one is simply superseded by the next.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device_bridge.hub_client import HubClient, HubUnavailable, RequestRejected

logger = logging.getLogger(__name__)


@dataclass
class HeartbeatCounters:
    sent: int = 0
    failures: int = 0
    rejected_reports: int = 0


class Heartbeat:
    def __init__(
        self, client: HubClient, interval: float, reports: Callable[[], list[dict[str, Any]]]
    ) -> None:
        self.client = client
        self.interval = interval
        self.counters = HeartbeatCounters()
        self._reports = reports

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval)

    async def beat(self) -> bool:
        """Report once; False (and a log line) if the hub did not take it."""
        try:
            results = await self.client.report_status(self._reports())
        except (HubUnavailable, RequestRejected) as error:
            self.counters.failures += 1
            logger.debug("heartbeat not delivered: %s", error)
            return False
        self.counters.sent += 1
        for result in results:
            if result.get("status") == "REJECTED":
                self.counters.rejected_reports += 1
                logger.warning("the hub refused the report on %s: %s", result.get("key"), result)
        return True
