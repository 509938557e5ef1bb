"""A day of traffic: the fleet runs the planned hauls, one truck at a time."""

from __future__ import annotations

import heapq
from typing import NamedTuple

from coalhub.models import BookingStatus, LoadState, PassDirection, WeighDirection
from coalhub.synthetic.bookings import SLOT_S, Bookings
from coalhub.synthetic.city import City
from coalhub.synthetic.clock import DAY_S
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Checkpoint, Contract, Deliveries, Haul, Site, Truck
from coalhub.synthetic.geography import CITY_CENTRE, ROAD_FACTOR, Point, km, midpoint, offset
from coalhub.synthetic.products import PRODUCTS_BY_CODE, Product
from coalhub.synthetic.tracking import Tracking
from coalhub.synthetic.trips import Plan, Planner, TripKind
from coalhub.synthetic.weighings import DIVISION_KG, Weighings, to_division

_UNMATCHED_SHARE = 0.04  # destination never recorded a purchase (not connected yet)
_OVERLOAD_SHARE = 0.03
_BOOKED_SHARE = 0.65
_TRANSFERRED_PRODUCT = PRODUCTS_BY_CODE["RAW-JM"]


class _Delivery(NamedTuple):
    busy_until: int
    weigh_record_id: int | None
    weighed_at: int
    net_kg: int


class Traffic:
    def __init__(self, ctx: Context, city: City) -> None:
        self.rng, self.city, self.scale = ctx.rng, city, ctx.scale
        self.start, self.end = ctx.scale.start_ts, ctx.scale.end_ts
        self.planner = Planner(ctx, city)
        self.weighings = Weighings(ctx, city.product_ids)
        self.bookings = Bookings(ctx)
        self.tracking = Tracking(ctx)
        # trucks by the time they are next free; the earliest free takes the next haul
        self.fleet = [
            (self.start - self.rng.randrange(12 * 3600), i) for i in range(len(city.trucks))
        ]
        heapq.heapify(self.fleet)
        self.inner = [cp for cp in city.checkpoints if not cp.boundary]
        self.boundary = [cp for cp in city.checkpoints if cp.boundary]
        # kept for finance and alerts
        self.deliveries: dict[int, Deliveries] = {}  # by contract id
        self.sightings: list[tuple[Truck, Checkpoint, int]] = []

    def run_day(self, index: int) -> None:
        day_start = self.start + index * DAY_S
        count = round(self.scale.trips_per_day * self.rng.uniform(0.92, 1.08))
        plans = [self.planner.plan(day_start) for _ in range(count)]
        for plan in sorted(plans, key=lambda p: p.need_at):
            self._dispatch(plan)
        self._unregistered_sightings(day_start)
        if index == self.scale.day_count - 1:
            self._future_bookings(count // 20)

    def _dispatch(self, plan: Plan) -> None:
        free_at, index = heapq.heappop(self.fleet)
        delay = 0 if free_at <= plan.need_at else free_at - plan.need_at + self.rng.randrange(900)
        busy_until = self._run(plan, self.city.trucks[index], plan.anchor + delay)
        heapq.heappush(self.fleet, (free_at if busy_until is None else busy_until, index))

    def _run(self, plan: Plan, truck: Truck, anchor: int) -> int | None:
        # one haul; returns when the truck is free again, None if it never starts
        if anchor >= self.end:
            return None
        driver_id = truck.driver_ids[-1] if self.rng.random() < 0.3 else truck.driver_ids[0]
        contract = plan.contract
        if contract is None:
            company = plan.company
            haul = Haul(truck, driver_id, _TRANSFERRED_PRODUCT, None, company, company)
            return self._transfer(plan, haul, anchor)
        haul = Haul(truck, driver_id, contract.product, contract, contract.seller, contract.buyer)
        if plan.kind == TripKind.INBOUND:
            return self._inbound(haul, contract, anchor)
        return self._sale(plan, haul, contract, anchor)

    def _load_at(self, plan: Plan, site: Site, haul: Haul, anchor: int) -> tuple[int, int, int]:
        # in empty, weighed empty, loaded, weighed loaded at `anchor`: ticket id, gross, tare
        rng, truck = self.rng, haul.truck
        tare_at = anchor - plan.loading_s
        arrive = tare_at - plan.gate_s
        approach_from = offset(site.point, plan.approach_km, rng.uniform(0, 360))
        self.tracking.road(
            truck, approach_from, site.point, arrive - plan.approach_s, arrive, LoadState.EMPTY
        )
        self.tracking.dwell(truck, site.point, arrive, anchor, LoadState.HALF)
        booking_id = None
        if rng.random() < _BOOKED_SHARE:
            booking_id = self.bookings.completed(site, haul, arrive, anchor)
        gross, tare = self._load(truck, haul.product)
        direction = WeighDirection.SALE if haul.contract else WeighDirection.TRANSFER
        ticket = self.weighings.weigh(
            haul,
            site,
            direction,
            gross,
            tare,
            gross_at=anchor,
            tare_at=tare_at,
            booking_id=booking_id,
        )
        return ticket, gross, tare

    def _transfer(self, plan: Plan, haul: Haul, anchor: int) -> int | None:
        site = plan.company.purchase_site
        if not site.uploads_at(anchor):
            return None
        self._load_at(plan, site, haul, anchor)
        yard = (plan.company.yard or site).point
        depart, arrival = anchor + 120, anchor + 120 + self.rng.randrange(300, 900)
        self.tracking.road(haul.truck, site.point, yard, depart, arrival, LoadState.FULL)
        return arrival + self.rng.randrange(600, 1500)

    def _sale(self, plan: Plan, haul: Haul, contract: Contract, anchor: int) -> int | None:
        rng = self.rng
        site = contract.seller.sale_site
        # the platform issues no e-ticket at a site it cannot reach, so the site ships nothing
        if not site.uploads_at(anchor):
            return None
        sale, gross, tare = self._load_at(plan, site, haul, anchor)
        self.deliveries.setdefault(contract.id, []).append((anchor, gross - tare))
        depart = anchor + rng.randrange(60, 240)
        if plan.kind == TripKind.LEAVES:
            return self._leave_city(haul.truck, site, sale, depart)
        arrival = self._drive(haul.truck, site.point, contract.buyer.purchase_site.point, depart)
        delivery = self._deliver(haul, gross, arrival, record=rng.random() >= _UNMATCHED_SHARE)
        matched = delivery.weighed_at + rng.randrange(30, 600)
        self.weighings.shipment(sale, delivery.weigh_record_id, None, matched)
        return delivery.busy_until

    def _leave_city(self, truck: Truck, site: Site, sale_id: int, depart: int) -> int:
        rng = self.rng
        exit_at = min(self.boundary, key=lambda cp: km(cp.point, site.point) * rng.uniform(1, 3))
        passed = self._drive(truck, site.point, exit_at.point, depart)
        pass_id = self.tracking.checkpoint_pass(exit_at, truck, PassDirection.OUTBOUND, passed)
        self.weighings.shipment(sale_id, None, pass_id, passed + rng.randrange(30, 300))
        back = passed + rng.randrange(4 * 3600, 10 * 3600)  # delivered outside, returns empty
        self.tracking.checkpoint_pass(exit_at, truck, PassDirection.INBOUND, back)
        return back + 60

    def _inbound(self, haul: Haul, contract: Contract, anchor: int) -> int:
        rng = self.rng
        entry = rng.choice(self.boundary)
        self.tracking.checkpoint_pass(entry, haul.truck, PassDirection.INBOUND, anchor)
        gross, _ = self._load(haul.truck, haul.product)
        destination = contract.buyer.purchase_site.point
        arrival = self._drive(haul.truck, entry.point, destination, anchor + rng.randrange(30, 120))
        delivery = self._deliver(haul, gross, arrival, record=True)
        if delivery.weigh_record_id is not None:
            entry_row = (delivery.weighed_at, delivery.net_kg)
            self.deliveries.setdefault(contract.id, []).append(entry_row)
        return delivery.busy_until

    def _deliver(self, haul: Haul, loaded_gross: int, arrival: int, *, record: bool) -> _Delivery:
        # queue, weigh in loaded, unload, weigh out empty at the consignee
        rng, truck = self.rng, haul.truck
        site = haul.consignee.purchase_site
        gross_at = arrival + rng.randrange(300, 2700)
        tare_at = gross_at + rng.randrange(600, 1500)
        self.tracking.dwell(truck, site.point, arrival, gross_at, LoadState.FULL)
        self.tracking.dwell(truck, site.point, gross_at, tare_at, LoadState.HALF)
        busy_until = tare_at + 120
        if not record or tare_at >= self.end or not site.uploads_at(tare_at):
            return _Delivery(busy_until, None, tare_at, 0)
        tare = self._tare(truck)
        # a little moisture and dust is lost on the road
        lost = (loaded_gross - truck.tare_kg) * rng.uniform(0.0005, 0.003)
        gross = max(to_division(loaded_gross - lost), tare + DIVISION_KG)
        ticket = self.weighings.weigh(
            haul, site, WeighDirection.PURCHASE, gross, tare, gross_at=gross_at, tare_at=tare_at
        )
        return _Delivery(busy_until, ticket, tare_at, gross - tare)

    def _load(self, truck: Truck, product: Product) -> tuple[int, int]:
        rng = self.rng
        tare = self._tare(truck)
        if rng.random() < _OVERLOAD_SHARE:
            return to_division(truck.limit_kg * rng.uniform(1.03, 1.3)), tare
        return to_division(tare + truck.payload_kg * rng.uniform(*product.load)), tare

    def _tare(self, truck: Truck) -> int:
        return to_division(truck.tare_kg + self.rng.gauss(0, 40))

    def _drive(self, truck: Truck, a: Point, b: Point, depart: int) -> int:
        # loaded drive from a to b, past an inner checkpoint if one is near the way
        rng = self.rng
        arrival = depart + max(300, round(km(a, b) * ROAD_FACTOR / rng.uniform(32, 48) * 3600))
        self.tracking.road(truck, a, b, depart, arrival, LoadState.FULL)
        middle = midpoint(a, b)
        nearest = min(self.inner, key=lambda cp: km(cp.point, middle))
        if km(nearest.point, middle) < 6 and rng.random() < 0.7:
            towards_centre = km(b, CITY_CENTRE) < km(a, CITY_CENTRE)
            direction = PassDirection.INBOUND if towards_centre else PassDirection.OUTBOUND
            self.tracking.checkpoint_pass(nearest, truck, direction, (depart + arrival) // 2)
        return arrival

    def _unregistered_sightings(self, day_start: int) -> None:
        rng = self.rng
        for truck in self.city.unregistered:
            for second in sorted(rng.sample(range(DAY_S), rng.randint(0, 3))):
                checkpoint = rng.choice(self.city.checkpoints)
                direction = rng.choice((PassDirection.INBOUND, PassDirection.OUTBOUND))
                at = day_start + second
                if self.tracking.checkpoint_pass(checkpoint, truck, direction, at) is not None:
                    self.sightings.append((truck, checkpoint, at))

    def _future_bookings(self, count: int) -> None:
        sites = [c.sale_site for c in self.city.companies if c.approved and c.weighbridges]
        statuses = (BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
        for _ in range(count):
            truck = self.rng.choice(self.city.trucks)
            slot = self.end + self.rng.randrange(1, 20) * SLOT_S
            self.bookings.open(self.rng.choice(sites), truck, slot, self.rng.choice(statuses))
