"""Support cases (hồ sơ hỗ trợ): a child, a programme, a decision, and the money paid out.

A child's identity lives only in `SupportCase` (and in its documents). Everything that
leaves the privileged roles (accountant pages, public pages, aggregates) reads the case
code, programme and amounts, never these identity columns; see app/services/cases/workflow.py.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import lazy_pgettext as pgettext  # lazy, and extracted as pgettext(context, msgid)

from app.i18n import _l
from app.models.base import Base, utcnow
from app.models.donor import AdminUnit
from app.models.fund import Programme
from app.models.user import User


class CaseState(str, enum.Enum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    PROPOSED = "proposed"
    APPROVED = "approved"
    DISBURSING = "disbursing"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"

    @property
    def label(self) -> str:
        return CASE_STATE_LABELS[self]


CASE_STATE_LABELS = {
    CaseState.INTAKE: _l("Tiếp nhận"),
    CaseState.ASSESSMENT: _l("Đang thẩm định"),
    CaseState.PROPOSED: _l("Đã đề xuất"),
    CaseState.APPROVED: _l("Đã phê duyệt"),
    CaseState.DISBURSING: _l("Đang giải ngân"),
    CaseState.CLOSED: _l("Đã đóng"),
    CaseState.REJECTED: _l("Từ chối"),
    CaseState.REOPENED: _l("Mở lại"),
}


SEX_LABELS = {"male": _l("Nam"), "female": _l("Nữ")}

#: Comments the system writes on a transition: stored in Vietnamese (the record), shown in
#: the reader's language.
SYSTEM_COMMENTS = {
    "Tiếp nhận hồ sơ": _l("Tiếp nhận hồ sơ"),
    "Tự động khi duyệt khoản chi đầu tiên": _l("Tự động khi duyệt khoản chi đầu tiên"),
}


class CaseSequence(Base):
    """Last case number used in a year (HS-<year>-<NNNN>); same gapless pattern as receipts."""

    __tablename__ = "case_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class CircumstanceCategory(Base):
    """An editable category of special circumstance (hộ nghèo, mồ côi, khuyết tật…)."""

    __tablename__ = "circumstance_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


case_circumstances = sa.Table(
    "case_circumstances",
    Base.metadata,
    sa.Column("case_id", sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("circumstance_categories.id"), primary_key=True),
)


class SupportCase(Base):
    __tablename__ = "cases"
    __table_args__ = (
        sa.UniqueConstraint("year", "sequence", name="uq_cases_year_sequence"),
        sa.CheckConstraint("estimated_cost IS NULL OR estimated_cost >= 0", name="estimated_cost_nonneg"),
        sa.CheckConstraint("insurance_covers >= 0 AND family_covers >= 0", name="covers_nonneg"),
        sa.CheckConstraint("support_requested IS NULL OR support_requested > 0", name="requested_positive"),
        sa.CheckConstraint("support_approved IS NULL OR support_approved > 0", name="approved_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=CaseState.INTAKE.value, index=True)
    opened_on: Mapped[date]

    # The child's identity: privileged roles only.
    child_name: Mapped[str] = mapped_column(sa.String(200))
    child_birth_date: Mapped[date]
    child_sex: Mapped[str] = mapped_column(sa.String(10))  # male / female
    admin_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_units.id"))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    guardian_name: Mapped[str] = mapped_column(sa.String(200))
    guardian_relation: Mapped[str] = mapped_column(sa.String(60))
    guardian_phone: Mapped[str | None] = mapped_column(sa.String(20))
    diagnosis: Mapped[str | None] = mapped_column(sa.Text)
    facility: Mapped[str | None] = mapped_column(sa.String(255))  # hospital or school
    situation: Mapped[str | None] = mapped_column(sa.Text)  # case worker's notes

    # Money, whole đồng.
    estimated_cost: Mapped[int | None] = mapped_column(sa.BigInteger)
    insurance_covers: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    family_covers: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    support_requested: Mapped[int | None] = mapped_column(sa.BigInteger)
    support_approved: Mapped[int | None] = mapped_column(sa.BigInteger)

    # Consent (Law on Children 2016, PDP Law 91/2025): the guardian's, and the child's own
    # from age 7; publishing is opt-in and only ever an anonymised story with initials.
    guardian_consent_on: Mapped[date | None]
    child_consent_on: Mapped[date | None]
    story_publishable: Mapped[bool] = mapped_column(default=False)
    story_initials: Mapped[str | None] = mapped_column(sa.String(20))
    story_text: Mapped[str | None] = mapped_column(sa.Text)

    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship()
    admin_unit: Mapped[AdminUnit | None] = relationship()
    categories: Mapped[list[CircumstanceCategory]] = relationship(
        secondary=case_circumstances, order_by=CircumstanceCategory.sort_order)
    transitions: Mapped[list[CaseTransition]] = relationship(
        back_populates="case", order_by="CaseTransition.id")
    documents: Mapped[list[CaseDocument]] = relationship(
        back_populates="case", order_by="CaseDocument.id")

    @property
    def state_label(self) -> str:
        return CaseState(self.state).label

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.child_sex, self.child_sex)


class CaseTransition(Base):
    """One recorded move of a case through the workflow. Append-only."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(sa.String(20))
    to_state: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[SupportCase] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()

    @property
    def from_label(self) -> str:
        return CaseState(self.from_state).label if self.from_state else "—"

    @property
    def to_label(self) -> str:
        return CaseState(self.to_state).label

    @property
    def comment_text(self) -> str | None:
        """The comment as shown: a system comment in the reader's language, else as typed."""
        return SYSTEM_COMMENTS.get(self.comment, self.comment) if self.comment else self.comment


class DocumentKind(str, enum.Enum):
    QUOTE = "quote"
    INVOICE = "invoice"
    CONSENT = "consent"
    PROOF = "proof"
    OTHER = "other"

    @property
    def label(self) -> str:
        return DOCUMENT_KIND_LABELS[self]


DOCUMENT_KIND_LABELS = {
    DocumentKind.QUOTE: _l("Báo giá / dự toán chi phí"),
    DocumentKind.INVOICE: _l("Hóa đơn, chứng từ viện phí"),
    DocumentKind.CONSENT: _l("Phiếu đồng ý"),
    DocumentKind.PROOF: _l("Chứng từ chi"),
    DocumentKind.OTHER: _l("Tài liệu khác"),
}


class CaseDocument(Base):
    """A file kept for a case, stored under UPLOAD_FOLDER with a random name (never static/)."""

    __tablename__ = "case_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[SupportCase] = relationship(back_populates="documents")

    @property
    def kind_label(self) -> str:
        return DocumentKind(self.kind).label


class DisbursementStatus(str, enum.Enum):
    RECORDED = "recorded"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"

    @property
    def label(self) -> str:
        return DISBURSEMENT_STATUS_LABELS[self.value]


DISBURSEMENT_STATUS_LABELS = {"recorded": _l("Chờ duyệt"), "approved": _l("Đã duyệt"),
                              "rejected": pgettext("disbursement status", "Không duyệt"), "reversed": _l("Đã đảo")}


# Rows whose money counts as spent; as with donations, a fully reversed original keeps
# counting (+) and its reversal row counts (−), so sums are always net.
SPENT_STATUSES = (DisbursementStatus.APPROVED.value, DisbursementStatus.REVERSED.value)

PAYEE_KINDS = {"hospital": _l("Bệnh viện"), "family": _l("Gia đình trẻ"), "school": _l("Nhà trường"),
               "other": _l("Đơn vị khác")}
PAYMENT_METHODS = {"bank_transfer": pgettext("payment method", "Chuyển khoản"), "cash": _l("Tiền mặt")}


class Disbursement(Base):
    """Money paid out for a case, from one programme. Never edited or deleted.

    Recorded (by an accountant or case worker), then approved by a director: only then does
    it count. A correction is a new row with `reverses_id` set, counted negatively.
    """

    __tablename__ = "disbursements"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programmes.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    paid_on: Mapped[date]
    payee_kind: Mapped[str] = mapped_column(sa.String(20))
    payee_name: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(20))
    voucher_number: Mapped[str | None] = mapped_column(sa.String(60))
    proof_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_documents.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=DisbursementStatus.RECORDED.value, index=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disbursements.id"), index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)  # reversal or rejection reason
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    case: Mapped[SupportCase] = relationship()
    programme: Mapped[Programme] = relationship()
    proof_document: Mapped[CaseDocument | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reverses: Mapped[Disbursement | None] = relationship(remote_side=[id])

    @hybrid_property
    def signed_amount(self) -> int:
        return -self.amount if self.reverses_id is not None else self.amount

    @signed_amount.inplace.expression
    @classmethod
    def _signed_amount_expression(cls):
        return sa.case((cls.reverses_id.is_not(None), -cls.amount), else_=cls.amount)

    @classmethod
    def net_sum(cls):
        return sa.cast(sa.func.coalesce(sa.func.sum(cls.signed_amount), 0), sa.BigInteger)

    @classmethod
    def counted(cls):
        return cls.status.in_(SPENT_STATUSES)

    @property
    def status_label(self) -> str:
        return DisbursementStatus(self.status).label

    @property
    def payee_kind_label(self) -> str:
        return PAYEE_KINDS.get(self.payee_kind, self.payee_kind)

    @property
    def method_label(self) -> str:
        return PAYMENT_METHODS.get(self.method, self.method)

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None
