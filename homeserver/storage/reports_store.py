"""Content reports: events, rooms and users reported to the server's admins.

spec: client-server "Reporting Content". Kept for the admins; nothing reads them back
over the client API.
"""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database, Txn

EVENT, ROOM, USER = "event", "room", "user"


@dataclass(frozen=True, slots=True)
class Report:
    kind: str
    reporter: str
    received_ts: int
    room_id: str | None = None
    event_id: str | None = None
    target_user_id: str | None = None
    reason: str | None = None
    score: int | None = None


def insert_report(txn: Txn, report: Report) -> int:
    # The single writer serialises writes: MAX + 1 cannot be taken twice.
    report_id = int(txn.fetchval("SELECT MAX(id) FROM content_reports") or 0) + 1
    txn.execute(
        "INSERT INTO content_reports (id, kind, reporter, room_id, event_id, target_user_id,"
        " reason, score, received_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report_id,
            report.kind,
            report.reporter,
            report.room_id,
            report.event_id,
            report.target_user_id,
            report.reason,
            report.score,
            report.received_ts,
        ),
    )
    return report_id


def list_reports(txn: Txn) -> list[Report]:
    rows = txn.fetchall(
        "SELECT kind, reporter, received_ts, room_id, event_id, target_user_id, reason, score"
        " FROM content_reports ORDER BY id"
    )
    return [Report(*row) for row in rows]


class ReportsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, report: Report) -> int:
        return await self.db.write(insert_report, report)

    async def all(self) -> list[Report]:
        return await self.db.read(list_reports)
