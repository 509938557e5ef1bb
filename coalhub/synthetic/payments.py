"""Bank payments: in advance of delivery, against invoices, and now and then to the wrong party."""

from __future__ import annotations

from decimal import Decimal

from coalhub.models import EnterpriseKind
from coalhub.synthetic.city import City
from coalhub.synthetic.clock import DAY_S, local_date, to_datetime
from coalhub.synthetic.context import Context, Row
from coalhub.synthetic.entities import Contract, Deliveries
from coalhub.synthetic.products import CENT

# one draw decides: below the first, unpaid yet; below the second, paid in two parts
_UNPAID_BELOW, _IN_TWO_PARTS_BELOW = 0.12, 0.2
_WRONG_PAYEE_SHARE = 0.015
_MIN_PREPAYMENT = Decimal(10_000)
_BANKS = ("ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "BAOTOUBANK", "WUHAIBANK")


class Payments:
    def __init__(self, ctx: Context, city: City) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.city = city
        self.end = ctx.scale.end_ts

    def prepay(self, contract: Contract, deliveries: Deliveries) -> None:
        # 款到发货: the buyer pays roughly what it will take, days before the first load
        rng = self.rng
        tonnes = sum(net for _, net in deliveries) / 1000
        amount = Decimal(round(tonnes * float(contract.unit_price) * rng.uniform(0.9, 1.2), -3))
        paid = deliveries[0][0] - rng.randrange(DAY_S, 5 * DAY_S)
        amount = max(amount, _MIN_PREPAYMENT)
        self._payment(contract.buyer.id, contract.seller.id, amount, paid, None, contract.id)

    def pay(self, invoice: Row, contract: Contract | None) -> None:
        # most invoices are paid within two weeks, some in two parts, some not yet
        rng = self.rng
        roll = rng.random()
        if roll < _UNPAID_BELOW:
            return
        total: Decimal = invoice["total_amount"] + invoice["total_tax"]
        parts = [total]
        if roll < _IN_TWO_PARTS_BELOW:
            half = (total / 2).quantize(CENT)
            parts = [half, total - half]
        payee_id = invoice["seller_id"]
        if rng.random() < _WRONG_PAYEE_SHARE:  # funds to a party other than the seller
            payee_id = rng.choice(self.city.of_kind(EnterpriseKind.TRADER)).id
        paid = int(invoice["issued_at"].timestamp())
        contract_id = contract.id if contract else None
        for part in parts:
            paid += rng.randrange(3600, 15 * DAY_S)
            if paid < self.end:
                self._payment(invoice["buyer_id"], payee_id, part, paid, invoice["id"], contract_id)

    def _payment(
        self,
        payer_id: int,
        payee_id: int,
        amount: Decimal,
        paid: int,
        invoice_id: int | None,
        contract_id: int | None,
    ) -> None:
        payment_id = self.keys.next("payment")
        bank = self.rng.choice(_BANKS)
        self.rows.add(
            "payment",
            {
                "id": payment_id,
                "reference": f"{bank}{local_date(paid):%Y%m%d}{payment_id:010d}",
                "payer_id": payer_id,
                "payee_id": payee_id,
                "amount": amount,
                "paid_at": to_datetime(paid),
                "invoice_id": invoice_id,
                "contract_id": contract_id,
            },
        )
