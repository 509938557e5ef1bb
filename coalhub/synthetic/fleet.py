"""Trucks, their legal gross limits, and the drivers who drive them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from coalhub.identifiers import PlateColour
from coalhub.models import EnergyType, EnterpriseKind, Suspension, VehicleStatus
from coalhub.synthetic.context import Context
from coalhub.synthetic.entities import Company, Truck
from coalhub.synthetic.identities import (
    PLATE_PREFIXES,
    mobile_phone,
    person_name,
    plate,
    resident_id,
)

K = EnterpriseKind
# (axles, combination, share of the fleet, curb weight range kg)
_TRUCK_TYPES = (
    (6, True, 0.70, (14_500, 16_500)),
    (5, True, 0.10, (13_500, 15_000)),
    (4, False, 0.10, (12_000, 13_500)),
    (3, False, 0.06, (10_000, 11_500)),
    (2, False, 0.04, (6_500, 7_500)),
)
_NEW_ENERGY_CURB_KG = (18_000, 20_000)  # battery-swap tractors: 6-axle combinations
_REGISTERED_ONLY = (
    "axles",
    "suspension",
    "rated_payload_kg",
    "curb_weight_kg",
    "energy_type",
    "transport_certificate",
)


def gross_limit_kg(axles: int, combination: bool, air: bool, single_drive: bool) -> int:
    """GB 1589-2016 gross limits as domain.md states them."""
    if axles <= 2:
        return 18_000
    if axles == 3:
        return 27_000 if combination else 25_000 + (1_000 if air else 0)
    if axles == 4:
        return 36_000 if combination else 31_000 + (1_000 if air else 0)
    if axles == 5:
        return 43_000
    return 46_000 if single_drive else 49_000


class _Chassis(NamedTuple):
    axles: int
    combination: bool
    air: bool  # air suspension
    single_drive: bool  # a tractor with a single drive axle
    curb_kg: int


def add_fleet(ctx: Context, companies: list[Company]) -> tuple[list[Truck], list[Truck]]:
    # The vehicle and driver rows; returns the trucks in service and the unregistered ones.
    return _Fleet(ctx, companies).build()


class _Fleet:
    def __init__(self, ctx: Context, companies: list[Company]) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.haulers = [c for c in companies if c.kind == K.LOGISTICS]
        self.shippers = [c for c in companies if c.kind in (K.MINE, K.TRADER, K.WASHING_PLANT)]
        self.plates: set[str] = set()
        self.id_numbers: set[str] = set()

    def build(self) -> tuple[list[Truck], list[Truck]]:
        in_service: list[Truck] = []
        unregistered: list[Truck] = []
        for _ in range(self.ctx.scale.vehicles):
            roll = self.rng.random()
            status = VehicleStatus.REGISTERED
            if roll < 0.01:
                status = VehicleStatus.SUSPENDED
            elif roll < 0.03:
                status = VehicleStatus.UNREGISTERED
            truck, owner = self._truck(status)
            if status == VehicleStatus.REGISTERED:
                in_service.append(truck)
                self._drivers(truck, owner)
            elif status == VehicleStatus.UNREGISTERED:
                unregistered.append(truck)
        return in_service, unregistered

    def _truck(self, status: VehicleStatus) -> tuple[Truck, Company | None]:
        rng = self.rng
        prefixes = list(PLATE_PREFIXES)
        prefix = rng.choices(prefixes, weights=[PLATE_PREFIXES[p][0] for p in prefixes])[0]
        new_energy = rng.random() < 0.10
        chassis = self._chassis(new_energy)
        limit = gross_limit_kg(
            chassis.axles, chassis.combination, chassis.air, chassis.single_drive
        )
        truck = Truck(
            id=self.ctx.keys.next("vehicle"),
            plate=self._unique_plate(prefix, new_energy),
            colour=PlateColour.YELLOW_GREEN if new_energy else PlateColour.YELLOW,
            limit_kg=limit,
            tare_kg=chassis.curb_kg + rng.randrange(100, 350),
            payload_kg=(limit - chassis.curb_kg - 300) // 100 * 100,
        )
        owner = self._owner(status)
        registered = self.ctx.registered_at()
        row = {
            "id": truck.id,
            "plate": truck.plate,
            "plate_colour": truck.colour,
            "status": status,
            "axles": chassis.axles,
            "suspension": Suspension.AIR if chassis.air else Suspension.STEEL,
            "tractor_single_drive_axle": chassis.single_drive,
            "is_combination": chassis.combination,
            "rated_payload_kg": truck.payload_kg,
            "curb_weight_kg": chassis.curb_kg,
            "energy_type": self._energy(truck.plate, new_energy),
            "transport_certificate": f"{PLATE_PREFIXES[prefix][1]}{truck.id:06d}",
            "owner_enterprise_id": owner.id if owner else None,
            "created_at": registered,
            "updated_at": registered,
        }
        if status == VehicleStatus.UNREGISTERED:  # only what a camera saw is known
            row.update(dict.fromkeys(_REGISTERED_ONLY))
        self.ctx.rows.add("vehicle", row)
        return truck, owner

    def _chassis(self, new_energy: bool) -> _Chassis:
        rng = self.rng
        axles, combination, _, curb_range = rng.choices(
            _TRUCK_TYPES, weights=[t[2] for t in _TRUCK_TYPES]
        )[0]
        if new_energy:
            axles, combination, curb_range = 6, True, _NEW_ENERGY_CURB_KG
        air = rng.random() < 0.2
        single_drive = combination and axles >= 6 and rng.random() < 0.2
        return _Chassis(axles, combination, air, single_drive, rng.randrange(*curb_range, 50))

    def _unique_plate(self, prefix: str, new_energy: bool) -> str:
        while True:
            candidate = plate(self.rng, prefix, new_energy)
            if candidate not in self.plates:
                self.plates.add(candidate)
                return candidate

    def _owner(self, status: VehicleStatus) -> Company | None:
        roll = self.rng.random()
        if status == VehicleStatus.UNREGISTERED or roll < 0.25:
            return None  # owner-drivers (个体)
        return self.rng.choice(self.haulers if roll < 0.85 else self.shippers)

    def _energy(self, plate_no: str, new_energy: bool) -> EnergyType:
        if new_energy:  # D: battery electric; F: not purely electric (here: fuel cell)
            return EnergyType.ELECTRIC if plate_no.endswith("D") else EnergyType.HYDROGEN
        return self.rng.choices((EnergyType.DIESEL, EnergyType.LNG), weights=(85, 15))[0]

    def _drivers(self, truck: Truck, owner: Company | None) -> None:
        # most trucks run with one driver; a fifth share two who take shifts
        for _ in range(2 if self.rng.random() < 0.2 else 1):
            truck.driver_ids.append(self._driver(owner, truck))

    def _unique_resident_id(self, male: bool) -> str:
        rng = self.rng
        while True:
            birth = date(rng.randint(1968, 2003), 1, 1) + timedelta(days=rng.randrange(365))
            number = resident_id(rng, birth, male)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def _driver(self, employer: Company | None, truck: Truck) -> int:
        rng = self.rng
        number = self._unique_resident_id(male=rng.random() < 0.97)
        driver_id = self.ctx.keys.next("driver")
        registered = self.ctx.registered_at()
        self.ctx.rows.add(
            "driver",
            {
                "id": driver_id,
                "name": person_name(rng),
                "id_number": number,
                "phone": mobile_phone(rng),
                "licence_class": "A2" if truck.limit_kg > 31_000 else "B2",
                # 从业资格证 numbers are the holder's ID number in practice: personal data
                "qualification_certificate": number,
                "employer_id": employer.id if employer else None,
                "created_at": registered,
                "updated_at": registered,
            },
        )
        return driver_id
