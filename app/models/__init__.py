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
from app.models.submission import FormSubmission  # noqa: E402  (issue 12: one-time form tokens)

__all__ += ["FormSubmission"]

from app.models.bank import (  # noqa: E402  (bank transfers, issue 13)
    LINE_STATE_LABELS, BankAccount, BankLayout, BankLine, BankStatementImport, LineState,
    PledgeStatus, TransferPledge,
)

__all__ += [
    "LINE_STATE_LABELS", "BankAccount", "BankLayout", "BankLine", "BankStatementImport",
    "LineState", "PledgeStatus", "TransferPledge",
]

from app.models.account import (  # noqa: E402  (donor accounts, issue 16)
    RECURRING_STATUS_LABELS, REQUEST_KIND_LABELS, AccountToken, DataRequest, RecurringGift, RecurringMethod,
    RecurringStatus, RequestKind, RequestStatus,
)

__all__ += [
    "RECURRING_STATUS_LABELS", "REQUEST_KIND_LABELS", "AccountToken", "DataRequest", "RecurringGift", "RecurringMethod",
    "RecurringStatus", "RequestKind", "RequestStatus",
]

from app.models.job import ACTIVE_STATES, Job, JobState  # noqa: E402  (background jobs, issue 15)

__all__ += ["ACTIVE_STATES", "Job", "JobState"]

from app.models.report import FrozenReport  # noqa: E402  (reports, issue 14)

__all__ += ["FrozenReport"]
