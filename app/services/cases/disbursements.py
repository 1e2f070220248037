"""Programmes as restricted funds, and disbursements (khoản chi) to cases.

The balance rule (docs/cases.md):

    received(P)   = confirmed net donations designated to programme P
                    (a donation designated to a case carries the case's programme)
    spent(P)      = approved, net-of-reversal disbursements drawn from P
    balance(P)    = received(P) − spent(P)
    earmark(C)    = max(0, net donations designated to case C − C's spending from C's programme)
    available(P, C) = balance(P) − Σ earmark(C') over the other cases C' of P

So money given for one child is reserved for that child: it is never available to another
case, while the child's own case may use it plus the programme's unreserved money. A
disbursement for case C from P is refused when it exceeds available(P, C) or the case's
approved support minus what is already spent (and, when recorded, awaiting approval).
A case may draw on its own programme or, as a top-up, on the general fund.

Approval locks the programme row (SELECT … FOR UPDATE on PostgreSQL; SQLite serializes
writers with BEGIN IMMEDIATE), then the case row, so two approvals racing cannot overspend.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import _, money
from app.models import (
    PAYEE_KINDS, PAYMENT_METHODS, CaseState, Disbursement, DisbursementStatus, Donation,
    Programme, Role, SupportCase,
)
from app.services import audit
from app.services.cases import documents as case_documents
from app.services.audit import Actor
from app.services.cases.workflow import apply_transition, get_case, lock_case
from app.services.setup import general_programme
from app.timeutil import local_today, utcnow

RECORD_ROLES = frozenset({Role.ACCOUNTANT.value, Role.CASE_WORKER.value, Role.DIRECTOR.value, Role.ADMIN.value})
DECIDE_ROLES = frozenset({Role.DIRECTOR.value, Role.ADMIN.value})
DISBURSABLE_STATES = (CaseState.APPROVED.value, CaseState.DISBURSING.value)


# --------------------------------------------------------------------------- balances

def received_by_programme() -> dict[int, int]:
    rows = db.session.execute(sa.select(Donation.programme_id, Donation.net_sum())
                              .where(Donation.counted()).group_by(Donation.programme_id))
    return {p: int(v) for p, v in rows}


def spent_by_programme() -> dict[int, int]:
    rows = db.session.execute(sa.select(Disbursement.programme_id, Disbursement.net_sum())
                              .where(Disbursement.counted()).group_by(Disbursement.programme_id))
    return {p: int(v) for p, v in rows}


def programme_balance(programme_id: int) -> int:
    received = db.session.scalar(sa.select(Donation.net_sum()).where(
        Donation.counted(), Donation.programme_id == programme_id))
    spent = db.session.scalar(sa.select(Disbursement.net_sum()).where(
        Disbursement.counted(), Disbursement.programme_id == programme_id))
    return int(received) - int(spent)


def case_designated(case_id: int) -> int:
    return int(db.session.scalar(sa.select(Donation.net_sum()).where(
        Donation.counted(), Donation.case_id == case_id)))


def case_spent(case_id: int, programme_id: int | None = None) -> int:
    query = sa.select(Disbursement.net_sum()).where(Disbursement.counted(), Disbursement.case_id == case_id)
    if programme_id is not None:
        query = query.where(Disbursement.programme_id == programme_id)
    return int(db.session.scalar(query))


def case_pending(case_id: int) -> int:
    return int(db.session.scalar(sa.select(Disbursement.net_sum()).where(
        Disbursement.case_id == case_id, Disbursement.status == DisbursementStatus.RECORDED.value)))


def earmarks(programme_id: int) -> dict[int, int]:
    """case id → money still reserved for that case within its programme."""
    designated = dict(db.session.execute(
        sa.select(Donation.case_id, Donation.net_sum())
        .where(Donation.counted(), Donation.case_id.is_not(None), Donation.programme_id == programme_id)
        .group_by(Donation.case_id)).all())
    if not designated:
        return {}
    spent = dict(db.session.execute(
        sa.select(Disbursement.case_id, Disbursement.net_sum())
        .where(Disbursement.counted(), Disbursement.programme_id == programme_id,
               Disbursement.case_id.in_(list(designated)))
        .group_by(Disbursement.case_id)).all())
    return {case_id: max(0, int(amount) - int(spent.get(case_id, 0))) for case_id, amount in designated.items()}


def available_for(programme_id: int, case_id: int | None) -> int:
    """What programme P may still pay out for case C (money reserved for others excluded)."""
    reserved_for_others = sum(v for c, v in earmarks(programme_id).items() if c != case_id)
    return programme_balance(programme_id) - reserved_for_others


@dataclass
class ProgrammeBalance:
    programme: Programme
    received: int
    spent: int
    earmarked: int
    pending: int

    @property
    def balance(self) -> int:
        return self.received - self.spent

    @property
    def free(self) -> int:
        """Not reserved for a particular child."""
        return self.balance - self.earmarked


def programme_balances() -> list[ProgrammeBalance]:
    received, spent = received_by_programme(), spent_by_programme()
    pending = dict(db.session.execute(
        sa.select(Disbursement.programme_id, Disbursement.net_sum())
        .where(Disbursement.status == DisbursementStatus.RECORDED.value)
        .group_by(Disbursement.programme_id)).all())
    programmes = db.session.scalars(sa.select(Programme).order_by(Programme.sort_order, Programme.id))
    return [ProgrammeBalance(p, received.get(p.id, 0), spent.get(p.id, 0), sum(earmarks(p.id).values()),
                             int(pending.get(p.id, 0)))
            for p in programmes]


@dataclass
class CaseMoney:
    approved: int
    designated: int
    spent: int
    pending: int

    @property
    def remaining(self) -> int:
        return max(0, self.approved - self.spent)


def case_money(case: SupportCase) -> CaseMoney:
    return CaseMoney(case.support_approved or 0, case_designated(case.id), case_spent(case.id),
                     case_pending(case.id))


# --------------------------------------------------------------------------- rules

def _check_limits(case: SupportCase, programme_id: int, amount: int, *, include_pending: bool) -> None:
    approved = case.support_approved or 0
    used = case_spent(case.id) + (case_pending(case.id) if include_pending else 0)
    if amount > approved - used:
        amounts = dict(code=case.code, approved=money(approved), used=money(used),
                       left=money(max(0, approved - used)))
        if include_pending:
            message = _("Vượt mức hỗ trợ đã duyệt của hồ sơ %(code)s: đã duyệt %(approved)s, đã chi và chờ "
                        "duyệt %(used)s, còn được chi %(left)s.", **amounts)
        else:
            message = _("Vượt mức hỗ trợ đã duyệt của hồ sơ %(code)s: đã duyệt %(approved)s, đã chi "
                        "%(used)s, còn được chi %(left)s.", **amounts)
        raise Conflict(message, field="amount")
    available = available_for(programme_id, case.id)
    if amount > available:
        programme = db.session.get(Programme, programme_id)
        raise Conflict(
            _("Vượt số dư khả dụng của chương trình «%(programme)s»: còn khả dụng %(available)s (đã trừ "
              "tiền nhà hảo tâm chỉ định cho hồ sơ khác).", programme=programme.name,
              available=money(max(0, available))),
            field="amount")


def _lock_programme(programme_id: int) -> Programme:
    programme = db.session.scalars(sa.select(Programme).where(Programme.id == programme_id)
                                   .with_for_update()).one_or_none()
    if programme is None:
        raise NotFound(_("Không tìm thấy chương trình."))
    return programme


def lock_disbursement(disbursement_id: int) -> Disbursement:
    row = db.session.scalars(sa.select(Disbursement).where(Disbursement.id == disbursement_id)
                             .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFound(_("Không tìm thấy khoản chi."))
    return row


# --------------------------------------------------------------------------- services

def record_disbursement(case_id: int, actor: Actor, role: str, *, amount: int, paid_on: date,
                        payee_kind: str, payee_name: str | None, method: str,
                        voucher_number: str | None = None, programme_id: int | None = None,
                        proof=None, note: str | None = None,
                        at: datetime | None = None) -> Disbursement:
    """Record a payout awaiting a director's approval. It counts only once approved."""
    if role not in RECORD_ROLES:
        raise PermissionDenied(_("Bạn không có quyền ghi khoản chi."))
    case = get_case(case_id)
    if case.state not in DISBURSABLE_STATES:
        raise Conflict(_("Hồ sơ %(code)s đang ở trạng thái «%(state)s»: chỉ ghi khoản chi cho hồ sơ đã phê "
                         "duyệt hoặc đang giải ngân.", code=case.code, state=case.state_label))
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed(_("Số tiền phải là số nguyên đồng lớn hơn 0."), field="amount")
    if paid_on is None:
        raise ValidationFailed(_("Vui lòng nhập ngày chi."), field="paid_on")
    if paid_on > local_today():
        raise ValidationFailed(_("Ngày chi không được ở tương lai."), field="paid_on")
    if payee_kind not in PAYEE_KINDS:
        raise ValidationFailed(_("Vui lòng chọn đối tượng nhận."), field="payee_kind")
    if method not in PAYMENT_METHODS:
        raise ValidationFailed(_("Vui lòng chọn hình thức chi."), field="method")
    payee_name = (payee_name or "").strip()
    if not payee_name:
        if payee_kind != "family":
            raise ValidationFailed(_("Vui lòng nhập tên đơn vị nhận."), field="payee_name")
        payee_name = case.guardian_name  # shown only to roles that may see the child
    allowed_sources = {case.programme_id, general_programme().id}
    programme_id = programme_id or case.programme_id
    if programme_id not in allowed_sources:
        raise ValidationFailed(_("Chỉ chi từ chương trình của hồ sơ hoặc từ Quỹ chung."), field="programme_id")
    _check_limits(case, programme_id, amount, include_pending=True)
    row = Disbursement(case=case, programme_id=programme_id, amount=amount, paid_on=paid_on,
                       payee_kind=payee_kind, payee_name=payee_name[:255], method=method,
                       voucher_number=(voucher_number or "").strip() or None,
                       note=(note or "").strip() or None, status=DisbursementStatus.RECORDED.value,
                       recorded_by_id=actor.user_id, recorded_at=at or utcnow())
    document = None
    if proof is not None and getattr(proof, "filename", ""):
        document = case_documents.store_document(case, "proof", proof, actor)
        row.proof_document = document
    db.session.add(row)
    audit.record(actor, "disbursement.record", row,
                 after={"case": case.code, "amount": amount, "programme_id": programme_id,
                        "voucher": row.voucher_number})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        case_documents.discard_file(document)
        raise
    return row


def approve_disbursement(disbursement_id: int, actor: Actor, role: str, *,
                         at: datetime | None = None) -> Disbursement:
    """A director approves a recorded payout: from now on it counts against the balances.
    The first approval moves an approved case on to «Đang giải ngân»."""
    if role not in DECIDE_ROLES:
        raise PermissionDenied(_("Chỉ lãnh đạo quỹ được duyệt khoản chi."))
    peek = db.session.get(Disbursement, disbursement_id)
    if peek is None:
        raise NotFound(_("Không tìm thấy khoản chi."))
    _lock_programme(peek.programme_id)  # first the programme, then the case: one lock order
    case = lock_case(peek.case_id)
    row = lock_disbursement(disbursement_id)
    if row.status != DisbursementStatus.RECORDED.value:
        raise Conflict(_("Khoản chi này không còn ở trạng thái chờ duyệt."))
    if case.state not in DISBURSABLE_STATES:
        raise Conflict(_("Hồ sơ %(code)s đang ở trạng thái «%(state)s»: không duyệt khoản chi.",
                         code=case.code, state=case.state_label))
    _check_limits(case, row.programme_id, row.amount, include_pending=False)
    row.status = DisbursementStatus.APPROVED.value
    row.decided_by_id = actor.user_id
    row.decided_at = at or utcnow()
    audit.record(actor, "disbursement.approve", row,
                 before={"status": DisbursementStatus.RECORDED.value},
                 after={"status": row.status, "amount": row.amount, "case": case.code})
    if case.state == CaseState.APPROVED.value:
        apply_transition(case, CaseState.DISBURSING.value, actor, role,
                         comment="Tự động khi duyệt khoản chi đầu tiên", at=at)  # stored in Vietnamese
    db.session.commit()
    return row


def reject_disbursement(disbursement_id: int, actor: Actor, role: str, *, reason: str) -> Disbursement:
    if role not in DECIDE_ROLES:
        raise PermissionDenied(_("Chỉ lãnh đạo quỹ được quyết định khoản chi."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng ghi lý do."), field="reason")
    row = lock_disbursement(disbursement_id)
    if row.status != DisbursementStatus.RECORDED.value:
        raise Conflict(_("Khoản chi này không còn ở trạng thái chờ duyệt."))
    row.status = DisbursementStatus.REJECTED.value
    row.reason = reason
    row.decided_by_id = actor.user_id
    row.decided_at = utcnow()
    audit.record(actor, "disbursement.reject", row, before={"status": "recorded"},
                 after={"status": row.status, "reason": reason})
    db.session.commit()
    return row


def reverse_disbursement(disbursement_id: int, actor: Actor, role: str, *, reason: str) -> Disbursement:
    """Undo an approved payout with a new linked row (counted negatively); never an edit."""
    if role not in DECIDE_ROLES:
        raise PermissionDenied(_("Chỉ lãnh đạo quỹ được đảo khoản chi."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng ghi lý do đảo khoản chi."), field="reason")
    original = lock_disbursement(disbursement_id)
    if original.is_reversal:
        raise Conflict(_("Không thể đảo một bút toán đảo."))
    if original.status != DisbursementStatus.APPROVED.value:
        raise Conflict(_("Chỉ đảo được khoản chi đã duyệt và chưa bị đảo."))
    now = utcnow()
    reversal = Disbursement(
        case_id=original.case_id, programme_id=original.programme_id, amount=original.amount,
        paid_on=local_today(), payee_kind=original.payee_kind, payee_name=original.payee_name,
        method=original.method, voucher_number=None, status=DisbursementStatus.APPROVED.value,
        reverses_id=original.id, reason=reason, recorded_by_id=actor.user_id, recorded_at=now,
        decided_by_id=actor.user_id, decided_at=now)
    db.session.add(reversal)
    original.status = DisbursementStatus.REVERSED.value
    audit.record(actor, "disbursement.reverse", original,
                 after={"amount": original.amount, "reason": reason})
    db.session.commit()
    return reversal


def list_disbursements(*, status: str | None = None, case_id: int | None = None,
                       limit: int = 300) -> list[Disbursement]:
    query = sa.select(Disbursement).order_by(Disbursement.id.desc())
    if status:
        query = query.where(Disbursement.status == status)
    if case_id:
        query = query.where(Disbursement.case_id == case_id)
    return list(db.session.scalars(query.limit(limit)))


def designate_donation(case_id: int, actor: Actor, role: str, **fields) -> Donation:
    """Record an offline gift designated to one case (back office)."""
    if role not in {Role.ACCOUNTANT.value, Role.DIRECTOR.value, Role.ADMIN.value}:
        raise PermissionDenied(_("Bạn không có quyền ghi nhận khoản ủng hộ."))
    from app.services.donations.ledger import record_donation

    return record_donation(actor, case_id=case_id, **fields)


def case_donations(case_id: int) -> list[Donation]:
    return list(db.session.scalars(sa.select(Donation).where(Donation.case_id == case_id)
                                   .order_by(Donation.received_at.desc())))


def correct_approved_amount(case_id: int, actor: Actor, role: str, *, amount: int | None,
                            reason: str | None) -> SupportCase:
    """Lower a case's approved amount (a director's correction, e.g. a typing slip), never
    below what is already spent or waiting for approval. Raising it needs a new proposal.
    Audited with the reason; committed."""
    if role not in (Role.DIRECTOR.value, Role.ADMIN.value):
        raise PermissionDenied(_("Chỉ lãnh đạo Quỹ được điều chỉnh số tiền phê duyệt."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Vui lòng ghi lý do điều chỉnh."), field="reason")
    case = lock_case(case_id)
    if case.state not in DISBURSABLE_STATES or not case.support_approved:
        raise Conflict(_("Chỉ điều chỉnh được hồ sơ đã phê duyệt, chưa đóng."))
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed(_("Vui lòng nhập số tiền phê duyệt mới."), field="amount")
    if amount >= case.support_approved:
        raise ValidationFailed(
            _("Chỉ điều chỉnh giảm (đang duyệt %(amount)s). Muốn duyệt cao hơn, hãy lập đề xuất mới.",
              amount=money(case.support_approved)), field="amount")
    used = case_spent(case.id) + case_pending(case.id)
    if amount < used:
        raise Conflict(_("Không thể thấp hơn số đã chi và chờ duyệt (%(amount)s).", amount=money(used)), field="amount")
    before = case.support_approved
    case.support_approved = amount
    audit.record(actor, "case.approved_amount_correct", case, before={"support_approved": before},
                 after={"support_approved": amount, "reason": reason[:1000]})
    db.session.commit()
    return case


# A payee that points at the child: the guardian (family), the child's hospital or school
# (the README counts them as identity), or any payee named like the case's facility.
IDENTIFYING_PAYEES = ("family", "hospital", "school")


def payee_shown(row: Disbursement, role: str) -> str:
    """The payee as `role` may see it: masked unless the role may see the child."""
    from app.services.cases.workflow import may_see_identity
    from app.text import fold

    if may_see_identity(role):
        return row.payee_name
    facility = row.case.facility if row.case is not None else None
    if row.payee_kind in IDENTIFYING_PAYEES or (facility and fold(facility) == fold(row.payee_name)):
        return _("thông tin được bảo vệ")
    return row.payee_name
