"""Bookings of loading slots: completed ones, cancelled ones, and those still ahead."""

from __future__ import annotations

from coalhub.identifiers import PlateColour
from coalhub.models import BookingStatus
from coalhub.synthetic.clock import DAY_S, to_datetime
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Haul, Site, Truck

SLOT_S = 1800
_CANCELLED_BEFORE_SHARE = 0.03


class Bookings:
    def __init__(self, ctx: Context) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.start, self.end = ctx.scale.start_ts, ctx.scale.end_ts
        self.queue_numbers: dict[tuple[int, int], int] = {}  # (site id, day) -> last number

    def completed(self, site: Site, haul: Haul, arrive: int, completed: int) -> int:
        # A completed booking of a loading slot, checked in remotely before arriving.
        rng = self.rng
        slot = arrive - arrive % SLOT_S
        key = (site.id, (arrive - self.start) // DAY_S)
        self.queue_numbers[key] = number = self.queue_numbers.get(key, 0) + 1
        booking_id = self.keys.next("booking")
        self.rows.add(
            "booking",
            {
                "id": booking_id,
                "site_id": site.id,
                "vehicle_id": haul.truck.id,
                "driver_id": haul.driver_id,
                "contract_id": haul.contract.id if haul.contract else None,
                "slot_start": to_datetime(slot),
                "status": BookingStatus.COMPLETED,
                "checked_in_at": to_datetime(arrive - rng.randrange(300, 3600)),
                "queue_number": number,
                "priority": _priority(haul.truck),
                "created_at": to_datetime(slot - rng.randrange(2 * 3600, 48 * 3600)),
                "updated_at": to_datetime(completed),
            },
        )
        if rng.random() < _CANCELLED_BEFORE_SHARE:  # an earlier slot, booked and cancelled
            self.open(site, haul.truck, slot - DAY_S, BookingStatus.CANCELLED)
        return booking_id

    def open(self, site: Site, truck: Truck, slot: int, status: BookingStatus) -> None:
        # A booking no weighing completed: cancelled, or still ahead at the end.
        rng = self.rng
        created = min(slot, self.end) - rng.randrange(2 * 3600, 24 * 3600)
        check_in_at = slot - rng.randrange(600, 3600)
        checked_in: int | None = check_in_at
        if status != BookingStatus.CHECKED_IN or check_in_at >= self.end:
            checked_in = None
        self.rows.add(
            "booking",
            {
                "id": self.keys.next("booking"),
                "site_id": site.id,
                "vehicle_id": truck.id,
                "driver_id": truck.driver_ids[0],
                "contract_id": None,
                "slot_start": to_datetime(slot),
                "status": status,
                "checked_in_at": None if checked_in is None else to_datetime(checked_in),
                "queue_number": None if checked_in is None else rng.randint(1, 40),
                "priority": _priority(truck),
                "created_at": to_datetime(created),
                "updated_at": to_datetime(created if checked_in is None else checked_in),
            },
        )


def _priority(truck: Truck) -> int:
    # new-energy trucks are called first (smart dispatching)
    return 1 if truck.colour == PlateColour.YELLOW_GREEN else 0
