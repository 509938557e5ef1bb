"""Settling the traffic: invoices and payments per contract, and invoices with no goods."""

from __future__ import annotations

from decimal import Decimal

from coalhub.models import EnterpriseKind, ProductCategory
from coalhub.synthetic.city import City
from coalhub.synthetic.clock import DAY_S
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.entities import Contract, Deliveries
from coalhub.synthetic.invoices import Deal, Invoices
from coalhub.synthetic.payments import Payments
from coalhub.synthetic.products import PRODUCTS
from coalhub.synthetic.weighings import to_division

K = EnterpriseKind
_PER_LOAD_INVOICING = 0.4  # 一车一票: invoiced as each truck leaves; the rest every 3 days
_INVOICE_PERIOD_DAYS = 3
_UNINVOICED_SHARE = 0.05  # 有货无票
_RED_SHARE = 0.015
_PREPAID_SHARE = 0.35  # 款到发货
_PHANTOM_SELLERS = (K.MINE, K.WASHING_PLANT, K.COKING, K.TRADER)
_PHANTOM_BUYERS = (K.COKING, K.POWER_PLANT, K.CHEMICAL, K.TRADER)
_PHANTOM_PRODUCTS = tuple(
    p for p in PRODUCTS if p.category in (ProductCategory.RAW, ProductCategory.WASHED)
)


class Finance:
    def __init__(self, ctx: Context, city: City, deliveries: dict[int, Deliveries]) -> None:
        self.rng, self.city, self.deliveries = ctx.rng, city, deliveries
        self.start, self.end = ctx.scale.start_ts, ctx.scale.end_ts
        self.invoices = Invoices(ctx, city.product_ids)
        self.payments = Payments(ctx, city)
        self.without_goods: list[Row] = []  # 有票无货, for the alerts

    def settle(self) -> None:
        for contract in self.city.contracts:
            deliveries = self.deliveries.get(contract.id)
            if deliveries:
                self._settle(contract, sorted(deliveries))
        self._invoices_without_goods()

    def _settle(self, contract: Contract, deliveries: Deliveries) -> None:
        rng = self.rng
        prepaid = rng.random() < _PREPAID_SHARE
        if prepaid:
            self.payments.prepay(contract, deliveries)
        for issued, quantities_kg in self._invoice_batches(deliveries):
            if rng.random() < _UNINVOICED_SHARE or issued >= self.end:
                continue  # shipped, not (yet) invoiced
            invoice, first_line = self.invoices.issue(contract, quantities_kg, issued)
            if not prepaid:
                self.payments.pay(invoice, contract)
            if rng.random() < _RED_SHARE:
                self.invoices.reverse(invoice, first_line, contract)

    def _invoice_batches(self, deliveries: Deliveries) -> list[tuple[int, list[int]]]:
        # (issue time, net kg per line): one per load, or one line per day every 3 days.
        rng = self.rng
        if rng.random() < _PER_LOAD_INVOICING:
            return [(at + rng.randrange(600, 7200), [net]) for at, net in deliveries]
        by_period: dict[int, dict[int, int]] = {}
        for at, net in deliveries:
            day = (at - self.start) // DAY_S
            days = by_period.setdefault(day // _INVOICE_PERIOD_DAYS, {})
            days[day] = days.get(day, 0) + net
        batches = []
        for period, days in by_period.items():
            # issued in Beijing office hours on the 1st-2nd day after the period
            issued = self.start + ((period + 1) * _INVOICE_PERIOD_DAYS + rng.randrange(2)) * DAY_S
            batches.append((issued + rng.randrange(3600, 9 * 3600), list(days.values())))
        return batches

    def _invoices_without_goods(self) -> None:
        # 有票无货: invoices between parties that never moved coal to each other.
        rng = self.rng
        traded = {(c.seller.id, c.buyer.id) for c in self.city.contracts}
        approved = [c for c in self.city.companies if c.approved]
        sellers = [c for c in approved if c.kind in _PHANTOM_SELLERS]
        buyers = [c for c in approved if c.kind in _PHANTOM_BUYERS]
        for _ in range(max(2, self.invoices.count // 50)):
            seller, buyer = rng.choice(sellers), rng.choice(buyers)
            if seller.id == buyer.id or (seller.id, buyer.id) in traded:
                continue
            product = rng.choice(_PHANTOM_PRODUCTS)
            loads = [to_division(rng.uniform(29_000, 34_000)) for _ in range(rng.randint(1, 3))]
            issued = rng.randrange(self.start + 3600, self.end - 3600)
            deal = Deal(seller, buyer, product, Decimal(rng.randint(*product.price)))
            invoice, _ = self.invoices.issue(deal, loads, issued)
            self.without_goods.append(invoice)
            if rng.random() < 0.5:  # the money goes round to make it look real
                self.payments.pay(invoice, None)
