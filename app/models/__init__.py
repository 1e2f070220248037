"""Every table, in one package so Alembic sees them all."""
from app.models.audit import AuditEntry
from app.models.base import Base, UTCDateTime, utcnow
from app.models.commendation import (
    CommendationExclusion,
    CommendationOverride,
    CommendationSubmission,
    CommendationSubmissionRow,
    EXCLUSION_REASON_LABELS,
    ExclusionReason,
)
from app.models.donation import (
    CHANNEL_LABELS,
    COUNTED_STATUSES,
    Channel,
    Donation,
    DonationStatus,
)
from app.models.donor import AdminUnit, Donor, DonorKind
from app.models.fund import Appeal, AppealStatus, FundSettings, Programme
from app.models.mail import OutboxMessage, OutboxStatus
from app.models.payment import PaymentEvent
from app.models.receipt import Receipt, ReceiptSequence
from app.models.user import LoginAttempt, Role, User

__all__ = [
    "AdminUnit", "Appeal", "AppealStatus", "AuditEntry", "Base", "CHANNEL_LABELS",
    "COUNTED_STATUSES", "Channel", "Donation", "DonationStatus", "Donor", "DonorKind",
    "FundSettings", "LoginAttempt", "PaymentEvent", "Programme", "Receipt", "ReceiptSequence", "Role",
    "User", "UTCDateTime", "utcnow",
    "OutboxMessage", "OutboxStatus",
]
from app.models.case import (  # noqa: E402  (support cases, issue 6)
    CASE_STATE_LABELS, PAYEE_KINDS, PAYMENT_METHODS, SPENT_STATUSES, CaseDocument, CaseSequence,
    CaseState, CaseTransition, CircumstanceCategory, Disbursement, DisbursementStatus,
    DocumentKind, SupportCase, case_circumstances,
)

__all__ += [
    "CASE_STATE_LABELS", "PAYEE_KINDS", "PAYMENT_METHODS", "SPENT_STATUSES", "CaseDocument",
    "CaseSequence", "CaseState", "CaseTransition", "CircumstanceCategory", "Disbursement",
    "DisbursementStatus", "DocumentKind", "SupportCase", "case_circumstances",
]
__all__ += [
    "CommendationExclusion", "CommendationOverride", "CommendationSubmission",
    "CommendationSubmissionRow", "EXCLUSION_REASON_LABELS", "ExclusionReason",
]
from app.models.report import FrozenReport  # noqa: E402  (reports, issue 14)

__all__ += ["FrozenReport"]
