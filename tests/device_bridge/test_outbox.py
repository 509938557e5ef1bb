"""The outbox: what is committed stays (even through SIGKILL) until the hub has answered."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coalhub.anpr import PlateColour
from device_bridge.config import WeighingRules
from device_bridge.outbox import Outbox, Rejection
from device_bridge.session import CompletedWeighing, FirstWeighing, Weighing

REPO = Path(__file__).resolve().parents[2]
RULES = WeighingRules("JM-XJ", "91150304MA0000012J", "91150303MA00009995")
NOW = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # 01:30 the next day in Wuhai


def payload(ticket_no: str) -> dict[str, Any]:
    return {"ticketNo": ticket_no, "grossKg": 49160}


def weighing(id: str, weight: int, plate: str = "蒙C10000") -> Weighing:
    return Weighing(id, "WB1", plate, PlateColour.YELLOW, weight, NOW, None, {"frames": ["02"]})


def test_records_stay_pending_until_the_hub_answers(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", "S12-", clock=lambda: NOW)
    tickets = [outbox.add(f"key-{n}", payload) for n in range(3)]
    assert tickets[0].startswith("S12-20261127-")  # the site's (Beijing) calendar day
    assert tickets[0].endswith("-000001")
    assert tickets[2].endswith("-000003")
    assert [p.payload["ticketNo"] for p in outbox.pending(10)] == tickets
    assert [p.key for p in outbox.pending(2)] == ["key-0", "key-1"]  # oldest first
    outbox.settle(
        {"key-0": "V2VpZ2hSZWNvcmQ6MQ=="}, {"key-1": Rejection("unknown", "productCode", "x")}
    )
    assert [p.key for p in outbox.pending(10)] == ["key-2"]
    assert outbox.counts() == {"pending": 1, "delivered": 1, "dead": 1}
    [dead] = outbox.dead_letters()
    assert (dead.key, dead.rejection) == ("key-1", Rejection("unknown", "productCode", "x"))
    # an answer for a record no longer pending changes nothing
    outbox.settle({"key-1": None}, {"key-0": Rejection("late")})
    assert outbox.counts() == {"pending": 1, "delivered": 1, "dead": 1}
    assert outbox.retry_dead(["key-1"]) == 1
    assert [p.key for p in outbox.pending(10)] == ["key-1", "key-2"]
    outbox.close()


def test_first_weighings_and_tickets_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, "S12-", clock=lambda: NOW)
    tare = weighing("w1", 17020)
    outbox.save_first(FirstWeighing(tare))
    outbox.save_first(FirstWeighing(weighing("w2", 16000, "蒙C20000")))
    retare = weighing("w3", 17040)
    outbox.save_first(FirstWeighing(retare, replaces="w1"))
    outbox.close()

    outbox = Outbox(path, "S12-", clock=lambda: NOW)
    assert {w.id for w in outbox.open_weighings()} == {"w2", "w3"}
    ticket = CompletedWeighing("key-1", retare, weighing("w4", 49160), RULES)
    ticket_no = outbox.add_ticket(ticket, "U2l0ZToxMg==")
    assert [w.id for w in outbox.open_weighings()] == ["w2"]  # retired in the same commit
    [pending] = outbox.pending(10)
    assert pending.payload["ticketNo"] == ticket_no
    assert (pending.payload["tareKg"], pending.payload["grossKg"]) == (17040, 49160)
    outbox.close()


def test_ticket_numbers_carry_the_outbox_instance(tmp_path: Path) -> None:
    # a reinstalled bridge starts a new file: its tickets must not repeat the old ones
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, "S12-", clock=lambda: NOW)
    first = outbox.add("a", payload)
    outbox.close()
    outbox = Outbox(path, "S12-", clock=lambda: NOW)
    second = outbox.add("b", payload)
    outbox.close()
    prefix, day, instance, seq = first.split("-")
    assert (prefix, day, len(instance), seq) == ("S12", "20261127", 4, "000001")
    assert second == f"S12-20261127-{instance}-000002"


def test_delivered_records_are_pruned_after_a_while(tmp_path: Path) -> None:
    now = [NOW]
    outbox = Outbox(tmp_path / "outbox.sqlite3", clock=lambda: now[0])
    outbox.add("old", payload)
    outbox.settle({"old": None}, {})
    now[0] += timedelta(days=31)
    outbox.add("new", payload)
    outbox.settle({"new": None}, {})
    assert outbox.prune_delivered(timedelta(days=30)) == 1
    assert outbox.counts()["delivered"] == 1
    outbox.close()


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from device_bridge.outbox import Outbox
    outbox = Outbox(Path(sys.argv[1]), "S12-")
    for n in range(50):
        outbox.add(f"key-{n}", lambda t: {"ticketNo": t, "pad": "x" * 2000})
        print(n, flush=True)
    time.sleep(60)
    """
)


def test_commits_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
    assert writer.stdout is not None
    reported = -1
    while reported < 25:  # killed while it is still committing
        reported = int(writer.stdout.readline())
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    writer.stdout.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    outbox = Outbox(path, "S12-")
    keys = [p.key for p in outbox.pending(100)]
    outbox.close()
    assert len(keys) > reported  # everything it reported committed is there
    assert keys == [f"key-{n}" for n in range(len(keys))]  # and nothing half-written
