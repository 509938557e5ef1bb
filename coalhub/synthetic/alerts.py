"""A few alerts of every kind, as the alert features will raise them."""

from __future__ import annotations

from typing import Any

from coalhub.models import AlertKind, AlertStatus, EnterpriseKind
from coalhub.synthetic.city import City
from coalhub.synthetic.clock import DAY_S, to_datetime
from coalhub.synthetic.context import Context
from coalhub.synthetic.finance import Finance
from coalhub.synthetic.traffic import Traffic
from coalhub.synthetic.weighings import Weighing

# weights of the statuses in AlertStatus order: open, acknowledged, handling, closed
_STATUS_WEIGHTS = (50, 20, 15, 15)
_SHOWN = 3  # alerts of each kind raised from the anomalies found


class Alerts:
    def __init__(self, ctx: Context, city: City, traffic: Traffic, finance: Finance) -> None:
        self.rng, self.keys, self.rows = ctx.rng, ctx.keys, ctx.rows
        self.city, self.traffic, self.finance = city, traffic, finance
        self.end = ctx.scale.end_ts

    def raise_all(self) -> None:
        self._overloads()
        self._offline_sites()
        self._flow_mismatches()
        self._price_outliers()
        self._unregistered()
        self._tamper_and_volume()

    def _add(
        self,
        kind: AlertKind,
        severity: int,
        title: str,
        detail: str,
        routed_to: str,
        at: int,
        **links: Any,
    ) -> None:
        rng = self.rng
        raised = min(at + rng.randrange(30, 600), self.end - 1)
        status = rng.choices(list(AlertStatus), weights=_STATUS_WEIGHTS)[0]
        closed = raised + rng.randrange(3600, 3 * DAY_S)
        if status == AlertStatus.CLOSED and closed >= self.end:
            status = AlertStatus.HANDLING
        self.rows.add(
            "alert",
            {
                "id": self.keys.next("alert"),
                "kind": kind,
                "severity": severity,
                "status": status,
                "title": title,
                "detail": detail,
                "routed_to": routed_to,
                "district_id": links.get("district_id"),
                "enterprise_id": links.get("enterprise_id"),
                "site_id": links.get("site_id"),
                "vehicle_id": links.get("vehicle_id"),
                "weigh_record_id": links.get("weigh_record_id"),
                "evidence": links.get("evidence"),
                "raised_at": to_datetime(raised),
                "closed_at": to_datetime(closed) if status == AlertStatus.CLOSED else None,
            },
        )

    def _overloads(self) -> None:
        overloads = self.traffic.weighings.overloads
        count = min(len(overloads), max(_SHOWN, len(overloads) // 10))
        for w in self.rng.sample(overloads, count):
            excess = (w.gross_kg - w.truck.limit_kg) / w.truck.limit_kg * 100
            title = (
                f"超限运输：{w.truck.plate} 总重 {w.gross_kg / 1000:.2f} 吨，"
                f"超过限值 {w.truck.limit_kg / 1000:.0f} 吨"
            )
            detail = f"{w.site.name}过磅超限 {excess:.1f}%，出场票据已拦截，待卸载复磅。"
            self._add(
                AlertKind.OVERLOAD,
                3 if excess > 20 else 2,
                title,
                detail,
                "transport",
                w.at,
                evidence={"gross_kg": w.gross_kg, "limit_kg": w.truck.limit_kg},
                **_weighing_links(w),
            )

    def _offline_sites(self) -> None:
        for site, last_beat in self.city.offline_sites:
            hours = (self.end - last_beat) // 3600
            self._add(
                AlertKind.SITE_OFFLINE,
                2,
                f"站点离线：{site.name} 已 {hours} 小时无心跳",
                "地磅数据采集终端离线，期间过磅数据可能未上传，请核实。",
                "energy",
                last_beat + 2 * 3600,
                district_id=site.district_id,
                enterprise_id=site.enterprise_id,
                site_id=site.id,
                evidence={"last_heartbeat_at": to_datetime(last_beat).isoformat()},
            )

    def _flow_mismatches(self) -> None:
        for invoice in self.finance.without_goods[:_SHOWN]:
            self._add(
                AlertKind.FLOW_MISMATCH,
                3,
                f"有票无货：{invoice['seller_name']} 开具发票 {invoice['number']} 无对应过磅记录",
                f"购买方 {invoice['buyer_name']}，金额 {invoice['total_amount']} 元，"
                "平台未见双方之间的运输与过磅记录。",
                "tax",
                int(invoice["issued_at"].timestamp()) + DAY_S,
                enterprise_id=invoice["seller_id"],
                evidence={"invoice_number": invoice["number"]},
            )

    def _price_outliers(self) -> None:
        for w in self.traffic.weighings.price_outliers[:_SHOWN]:
            contract = w.haul.contract
            assert contract is not None
            self._add(
                AlertKind.ABNORMAL_PRICE,
                2,
                f"价格异常：{w.haul.shipper.short} {contract.product.name}"
                f" 单价 {w.unit_price} 元/吨",
                f"合同价 {contract.unit_price} 元/吨，偏离超过 30%。",
                "market",
                w.at,
                evidence={
                    "unit_price": str(w.unit_price),
                    "contract_price": str(contract.unit_price),
                },
                **_weighing_links(w),
            )

    def _unregistered(self) -> None:
        for truck, checkpoint, at in self.traffic.sightings[:_SHOWN]:
            self._add(
                AlertKind.UNREGISTERED_VEHICLE,
                1,
                f"未备案车辆：{truck.plate} 经过{checkpoint.name}",
                "该车辆未在平台备案，疑似未经登记参与煤炭运输。",
                "transport",
                at,
                district_id=checkpoint.district_id,
                vehicle_id=truck.id,
            )

    def _tamper_and_volume(self) -> None:
        if self.traffic.weighings.ordinary:
            w = self.rng.choice(self.traffic.weighings.ordinary)
            jump_kg = self.rng.randint(3, 9) * 100
            self._add(
                AlertKind.TAMPER_SUSPECTED,
                4,
                f"疑似计量作弊：{w.site.name} 稳定窗口内读数阶跃",
                f"车辆 {w.truck.plate} 称重稳定后读数跳变 {jump_kg} 千克，疑似遥控器干扰。",
                "market",
                w.at,
                **_weighing_links(w),
            )
        seller = self.rng.choice(self.city.of_kind(EnterpriseKind.MINE))
        rise_pct = self.rng.randint(40, 90)
        self._add(
            AlertKind.ABNORMAL_VOLUME,
            1,
            f"运量异常：{seller.short} 日销量较近 7 日均值上升 {rise_pct}%",
            "请核实是否存在代开、过票或产能超限。",
            "energy",
            self.end - 6 * 3600,
            district_id=seller.district_id,
            enterprise_id=seller.id,
        )


def _weighing_links(w: Weighing) -> dict[str, Any]:
    return {
        "district_id": w.site.district_id,
        "enterprise_id": w.site.enterprise_id,
        "site_id": w.site.id,
        "vehicle_id": w.truck.id,
        "weigh_record_id": w.id,
    }
