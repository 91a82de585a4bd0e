"""The citizen's phone on a 差评 case: masked everywhere, revealed to the assigned handler.

The number a citizen gave with the rating (for the 核实/回访 call) is stored on the case with
its masked form (138****1234), which is all any list, view, event or log shows. The full
number is returned only to the account the case is assigned to (`assign` with `account`),
only while the case is open, and each request, granted or refused, appends an audit record
holding the masked form. Retention (queue_server.admin.retention) purges both forms with the
ticket's personal data.
"""

from __future__ import annotations

from typing import Any

from queue_server.base import audit
from queue_server.base.db import Tx
from queue_server.base.errors import NotFound
from queue_server.core.context import HallContext
from queue_server.ratings.followup import _case


def reveal_contact(
    ctx: HallContext, tx: Tx, case_id: int, account_id: int | None, actor: str
) -> dict[str, Any]:
    """The citizen's full phone number, for the handler the case is assigned to only; every
    reveal, granted or refused, is audited (with the masked number only)."""
    row = _case(tx.conn, case_id)
    allowed = (
        account_id is not None
        and row["assignee_account_id"] == account_id
        and row["status"] != "closed"
    )
    if not row["contact_phone"]:
        raise NotFound("群众未留联系电话（或已按保存期限清除）", "no_contact")
    detail = {"masked": row["contact_masked"]}
    if not allowed:
        # Refusals are recorded too; the refusal must survive the request failing.
        audit.append(tx.conn, tx.now_iso, actor, "followup.contact_reveal", f"case {case_id}",
                     "refused", detail)  # fmt: skip
        return {"allowed": False}
    audit.append(tx.conn, tx.now_iso, actor, "followup.contact_reveal", f"case {case_id}",
                 "ok", detail)  # fmt: skip
    return {"allowed": True, "phone": row["contact_phone"], "masked": row["contact_masked"]}
