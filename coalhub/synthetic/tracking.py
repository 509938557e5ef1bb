"""Where trucks are seen: their GNSS positions, and the cameras of road checkpoints."""

from __future__ import annotations

from coalhub.models import LoadState, PassDirection, PositionSource
from coalhub.synthetic.clock import to_datetime
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Checkpoint, Truck
from coalhub.synthetic.geography import ROAD_FACTOR, Point, along, bearing, km

STATIONARY_INTERVAL_S = 300  # terminals report every 5 minutes while parked


class Tracking:
    # Adds trajectory_point and checkpoint_pass rows, dropping whatever falls after the end.

    def __init__(self, ctx: Context) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.end = ctx.scale.end_ts
        self.interval = ctx.scale.position_interval_s

    def road(self, truck: Truck, a: Point, b: Point, t0: int, t1: int, load: LoadState) -> None:
        # Positions every interval on a straight-ish road from a to b, in [t0, t1).
        rng = self.rng
        steps = max(1, (t1 - t0) // self.interval)
        kmh = km(a, b) * ROAD_FACTOR * 3600 / max(t1 - t0, 1)
        bend = rng.uniform(-0.12, 0.12)
        points = [along(a, b, i / steps, bend) for i in range(steps + 1)]
        for i in range(steps):
            at = t0 + i * self.interval + rng.randrange(min(5, self.interval))
            noise = Point(rng.gauss(0, 0.00012), rng.gauss(0, 0.00012))  # GNSS scatter
            speed = round(kmh * rng.uniform(0.8, 1.2) * (0.4 if i == 0 else 1), 1)
            heading = bearing(points[i], points[i + 1])
            self._position(truck, at, points[i], noise, speed, heading, load)

    def dwell(self, truck: Truck, point: Point, t0: int, t1: int, load: LoadState) -> None:
        # Positions of a parked truck (queueing, loading, unloading) in [t0, t1).
        for at in range(t0, t1, STATIONARY_INTERVAL_S):
            noise = Point(self.rng.gauss(0, 0.00003), self.rng.gauss(0, 0.00003))
            self._position(truck, at, point, noise, 0.0, None, load)

    def checkpoint_pass(
        self, checkpoint: Checkpoint, truck: Truck, direction: PassDirection, at: int
    ) -> int | None:
        # the pass's id, or None when it falls after the end
        if at >= self.end:
            return None
        pass_id = self.keys.next("checkpoint_pass")
        self.rows.add(
            "checkpoint_pass",
            {
                "id": pass_id,
                "checkpoint_id": checkpoint.id,
                "vehicle_id": truck.id,
                "plate": truck.plate,
                "plate_colour": truck.colour,
                "direction": direction,
                "lane": self.rng.randint(1, 4),
                "passed_at": to_datetime(at),
                "image_sha256": self.rng.randbytes(32).hex(),
                "received_at": to_datetime(at + self.rng.randrange(1, 15)),
            },
        )
        return pass_id

    def _position(
        self,
        truck: Truck,
        at: int,
        point: Point,
        noise: Point,
        speed: float,
        heading: int | None,
        load: LoadState,
    ) -> None:
        if at >= self.end:
            return
        lat, lon = point.lat + noise.lat, point.lon + noise.lon
        self.rows.add(
            "trajectory_point",
            {
                "id": self.keys.next("trajectory_point"),
                "vehicle_id": truck.id,
                "recorded_at": to_datetime(at),
                "latitude": round(lat, 6),
                "longitude": round(lon, 6),
                # the valley floor rises gently to the south-east, about 1,070-1,150 m
                "altitude_m": round(1070 + (39.9 - lat) * 90 + (lon - 106.7) * 100),
                "speed_kmh": speed,
                "heading": heading,
                "load_state": load,
                "source": PositionSource.DEMO,
                "received_at": to_datetime(at + 1 + at % 7),
            },
        )
