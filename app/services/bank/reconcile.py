"""The accountant's side: confirm suggestions (in bulk), match by hand to a donor or a
pledge, create the donor from a line, mark a line as not a donation, undo a match (a
reversal, never an edit), and the balance check per account and period. Each action is
one transaction and is audited."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import _, date_text, money, vietnamese
from app.models import (
    BankAccount, BankLine, BankStatementImport, Donor, LineState, PledgeStatus, TransferPledge,
)
from app.services import audit
from app.services.audit import Actor
from app.services.bank import codes, reasons
from app.services.bank.reasons import IGNORE_REASONS
from app.services.bank.matching import donor_from_line, record_from_line
from app.services.donations.ledger import reverse_in_tx
from app.services.donations.queries import lock_donation



class LineNotFound(NotFound):
    """No bank line with that id (the page answers 404)."""


def _lock_line(line_id: int) -> BankLine:
    line = db.session.scalars(sa.select(BankLine).where(BankLine.id == line_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()
    if line is None:
        raise LineNotFound(_("Không tìm thấy giao dịch ngân hàng."))
    return line


def _open_credit(line: BankLine) -> None:
    if line.direction != "credit" or line.amount <= 0:
        raise Conflict(_("Chỉ giao dịch ghi có (tiền vào) với số tiền dương mới là khoản ủng hộ."))
    if line.donation_id is not None:
        raise Conflict(_("Giao dịch này đã được ghi nhận thành khoản ủng hộ."))


def _reviewed(line: BankLine, actor: Actor) -> None:
    from app.timeutil import utcnow

    line.reviewed_by_id, line.reviewed_at = actor.user_id, utcnow()


def confirm_suggestion(line_id: int, actor: Actor) -> BankLine:
    """Record the donation a suggestion proposes (its pledge, donor or programme)."""
    line = _lock_line(line_id)
    _open_credit(line)
    if line.state != LineState.SUGGESTED.value or not line.suggestion:
        raise Conflict(_("Giao dịch này không có gợi ý để xác nhận."))
    s = line.suggestion
    pledge = db.session.get(TransferPledge, s["pledge_id"]) if s.get("pledge_id") else None
    if pledge is not None and pledge.status == PledgeStatus.RECEIVED.value:
        pledge = None  # paid already: a second gift from the same donor
        donor_id = _pledge_donor(s["pledge_id"])
    else:
        donor_id = s.get("donor_id")
    line.state_reason = f"Cán bộ xác nhận gợi ý ({line.confidence}%): {line.state_reason or ''}".strip()
    _reviewed(line, actor)
    record_from_line(line, actor, pledge=pledge, donor_id=donor_id, programme_id=s.get("programme_id"))
    db.session.commit()
    return line


def _pledge_donor(pledge_id: int) -> int | None:
    pledge = db.session.get(TransferPledge, pledge_id)
    return pledge.donation.donor_id if pledge and pledge.donation else None


def confirm_suggestions(line_ids: list[int], actor: Actor) -> tuple[int, list[str]]:
    """Confirm several suggestions; each in its own transaction. Returns (done, problems)."""
    done, problems = 0, []
    for line_id in line_ids:
        try:
            confirm_suggestion(line_id, actor)
            done += 1
        except (Conflict, NotFound) as error:
            db.session.rollback()
            problems.append(f"#{line_id}: {error.message}")
    return done, problems


def match_by_hand(line_id: int, actor: Actor, *, donor_id: int | None = None, pledge_code: str | None = None,
                  programme_id: int | None = None, create_donor: bool = False, note: str | None = None) -> BankLine:
    """Match a credit line to a donor, to a pledge (by its code) or to a new donor made from
    the sender's name; record and confirm the donation."""
    line = _lock_line(line_id)
    _open_credit(line)
    pledge = None
    if pledge_code:
        code = codes.squeeze(pledge_code)
        pledge = db.session.scalar(sa.select(TransferPledge).where(TransferPledge.code == code))
        if pledge is None:
            raise NotFound(_("Không có đăng ký chuyển khoản mã %(code)s.", code=pledge_code))
        if pledge.status == PledgeStatus.RECEIVED.value:
            raise Conflict(_("Mã %(code)s đã được thanh toán bằng một giao dịch khác.", code=pledge.code))
    elif donor_id:
        donor = db.session.get(Donor, donor_id)
        if donor is None or donor.merged_into_id is not None:
            raise NotFound(_("Không tìm thấy nhà hảo tâm (hoặc hồ sơ đã được gộp)."))
    elif create_donor:
        donor_id = donor_from_line(line, actor).id
    else:
        raise ValidationFailed(_("Chọn nhà hảo tâm, nhập mã chuyển khoản, hoặc tạo nhà hảo tâm từ giao dịch."))
    line.state_reason = "Cán bộ khớp thủ công." + (f" {note.strip()}" if note and note.strip() else "")
    line.confidence = 100
    _reviewed(line, actor)
    record_from_line(line, actor, pledge=pledge, donor_id=donor_id, programme_id=programme_id)
    db.session.commit()
    return line


def mark_not_donation(line_id: int, actor: Actor, *, reason_code: str, note: str | None = None) -> BankLine:
    line = _lock_line(line_id)
    if line.donation_id is not None:
        raise Conflict(_("Giao dịch đã thành khoản ủng hộ: hãy hoàn tác trước."))
    if reason_code not in IGNORE_REASONS:
        raise ValidationFailed(_("Vui lòng chọn lý do."), field="reason")
    with vietnamese():
        text = str(IGNORE_REASONS[reason_code]) + (f": {note.strip()}" if note and note.strip() else "")
    if reason_code == "other" and not (note or "").strip():
        raise ValidationFailed(_("Vui lòng ghi rõ lý do."), field="note")
    before = {"state": line.state, "reason": line.state_reason}
    line.state, line.state_reason = LineState.IGNORED.value, text
    _reviewed(line, actor)
    audit.record(actor, "bank_line.ignore", line, before=before, after={"state": line.state, "reason": text})
    db.session.commit()
    return line


def undo_match(line_id: int, actor: Actor, *, reason: str) -> BankLine:
    """Reverse the donation a line made (a reversal row; the receipt is voided), and put the
    line back in the queue. The pledge, if any, waits for its money again."""
    line = _lock_line(line_id)
    if line.donation_id is None:
        raise Conflict(_("Giao dịch này chưa được ghi nhận thành khoản ủng hộ."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Vui lòng nhập lý do hoàn tác."), field="reason")
    donation = lock_donation(line.donation_id)
    reverse_in_tx(donation, actor, reason=f"Hoàn tác khớp giao dịch ngân hàng: {reason.strip()}",
                  reference=f"BANK-{line.id}-UNDO-{donation.id}")
    if line.pledge_id:
        pledge = db.session.get(TransferPledge, line.pledge_id)
        if pledge is not None and pledge.donation_id == donation.id:
            pledge.status, pledge.donation_id, pledge.received_at = PledgeStatus.PENDING.value, None, None
    audit.record(actor, "bank_line.undo", line, before={"state": line.state, "donation_id": line.donation_id},
                 after={"state": LineState.UNMATCHED.value, "reason": reason.strip()})
    line.state, line.donation_id, line.pledge_id, line.confidence = LineState.UNMATCHED.value, None, None, 0
    line.state_reason = f"Đã hoàn tác: {reason.strip()}"
    line.suggestion = None
    _reviewed(line, actor)
    db.session.commit()
    return line


@dataclass
class BalanceCheck:
    account: BankAccount
    statement: BankStatementImport
    computed: int | None
    ok: bool
    differences: list[str]


def balance_checks(limit: int = 20) -> list[BalanceCheck]:
    """Per imported statement (account and period): opening + credits − debits against the
    bank's closing balance, every difference the import listed, and whether its opening
    balance continues the closing balance of the account's previous statement (a gap means
    a statement or movements between the two periods are missing)."""
    checks = []
    for record in db.session.scalars(sa.select(BankStatementImport).order_by(BankStatementImport.id.desc()).limit(limit)):
        computed = None
        if record.opening_balance is not None:
            computed = record.opening_balance + record.credit_total - record.debit_total
        differences = [reasons.difference(d) for d in record.differences or []]
        gap = _continuity(record)
        if gap:
            differences.append(gap)
        checks.append(BalanceCheck(record.account, record, computed,
                                   ok=not differences and (computed is None or record.closing_balance in (None, computed)),
                                   differences=differences))
    return checks


def _continuity(record: BankStatementImport) -> str | None:
    if record.opening_balance is None or record.period_from is None:
        return None
    previous = db.session.scalars(sa.select(BankStatementImport).where(
        BankStatementImport.account_id == record.account_id, BankStatementImport.sha256 != record.sha256,
        BankStatementImport.period_to <= record.period_from, BankStatementImport.closing_balance.is_not(None))
        .order_by(BankStatementImport.period_to.desc(), BankStatementImport.id.desc()).limit(1)).first()
    if previous is None or previous.closing_balance == record.opening_balance:
        return None
    return _("Số dư đầu kỳ %(opening)s khác số dư cuối kỳ %(closing)s của sao kê trước (%(file)s, đến "
             "%(until)s): chênh %(difference)s — có thể thiếu sao kê hoặc giao dịch giữa hai kỳ.",
             opening=money(record.opening_balance), closing=money(previous.closing_balance),
             file=previous.file_name, until=date_text(previous.period_to),
             difference=money(record.opening_balance - previous.closing_balance))
