"""Matching credit lines to pledges, donors and programmes.

For each unmatched credit line, in order:
1. a valid transfer code in the memo names a pledge: the donation is recorded and confirmed
   at once (receipt issued and e-mailed) for the amount that arrived — when it differs from
   the pledge, the line and the donation say so; an expired pledge is revived. A code whose
   pledge was already paid becomes a suggestion (a second transfer), never a second receipt
   on its own. A monthly standing pledge's code (status "standing") is the same every
   month: each line with it is one donation, attributed to a month (bank/standing.py).
2. otherwise suggestions, each with a confidence (0–100) and its reasons: a donor known by
   the sender's account (from earlier matched lines), a pending pledge of the same amount
   whose donor's name is in the memo or is the sender, a donor's name in the memo, a
   programme named in the memo ("mo tim", "hoc bong"…). Suggestions wait for a person
   (reconcile.confirm_suggestions); only code matches (confidence 100) are automatic.
3. nothing: unmatched, for a person.
The matcher sees only our BankLine rows: it knows nothing of providers or statement layouts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    BankLine, Channel, Donation, DonationStatus, Donor, DonorKind, LineState, PledgeStatus, Programme,
    TransferPledge,
)
from app.services import audit
from app.services.audit import Actor
from app.services.bank import bulk, codes
from app.services.bank.lines import created_in_transaction
from app.services.donations.ledger import confirm_in_tx
from app.adapters.bank_lines import quick_fold as fold
from app.timeutil import utcnow
from app.vnd import format_vnd

BANK = Actor.system("bank")
AUTO_CONFIRM = 100

# Words a memo uses for a programme (folded), to the programme's code (app/services/setup.py).
PROGRAMME_KEYWORDS = {
    "mo tim": "heart", "tim bam sinh": "heart", "benh tim": "heart",
    "hoc bong": "scholarship",
    "sut moi": "cleft", "ho ham ech": "cleft", "hm": None,
    "khuyet tat": "motor", "phuc hoi chuc nang": "motor",
    "benh hiem ngheo": "illness", "ung thu": "illness",
    "tang qua": "gifts", "qua tet": "gifts", "trung thu": "gifts",
}
PROGRAMME_KEYWORDS = {k: v for k, v in PROGRAMME_KEYWORDS.items() if v}
_PADDED_KEYWORDS = [(f" {k} ", v) for k, v in PROGRAMME_KEYWORDS.items()]
ORGANIZATION_WORDS = ("cong ty", "cty", "tnhh", "ctcp", "co phan", "doanh nghiep", "hop tac xa", "ngan hang")


@dataclass
class Outcome:
    state: str
    confidence: int = 0
    reason: str | None = None
    pledge_id: int | None = None
    suggestion: dict | None = None
    confirm: bool = False  # record and confirm a donation now
    notes: list[str] = field(default_factory=list)


PLEDGE_COLUMNS = [TransferPledge.__table__.c[name] for name in (
    "id", "code", "amount", "status", "donor_kind", "donor_name", "donor_email", "donor_phone", "donor_tax_code",
    "donor_representative", "donor_address", "anonymous", "public_listing", "message", "programme_id",
    "appeal_id", "recurring_gift_id", "language")]


class Context:
    """What matching looks up, loaded once for a batch of lines (one query per kind)."""

    def __init__(self, lines):
        """`lines`: anything with the matched attributes (BankLine rows, statements.LineView);
        the pledges are loaded as plain rows, confirmed in bulk (bank/bulk.py)."""
        found = {line.id: codes.find_codes(line.memo) for line in lines}
        wanted = {c for cs in found.values() for c in cs}
        self.codes = found
        self.pledges: dict[str, sa.Row] = {}
        wanted_list = sorted(wanted)
        many = len(wanted_list) > 900  # a statement: one array parameter on PostgreSQL (bulk.in_batches)
        conditions = bulk.in_batches(TransferPledge.code, wanted_list) if many else \
            [TransferPledge.code.in_(wanted_list)] if wanted_list else []
        for condition in conditions:
            for pledge in db.session.execute(sa.select(*PLEDGE_COLUMNS).where(condition)):
                self.pledges[pledge.code] = pledge
        self.pledges_by_id = {p.id: p for p in self.pledges.values()}
        self.claimed: set[int] = set()  # pledges paid earlier in this batch
        senders = sorted({line.sender_account for line in lines if line.sender_account})
        self.sender_donor: dict[str, int] = {}
        for start in range(0, len(senders), 900):
            rows = db.session.execute(
                sa.select(BankLine.sender_account, Donation.donor_id)
                .join(Donation, Donation.id == BankLine.donation_id)
                .where(BankLine.sender_account.in_(senders[start:start + 900]))
                .order_by(BankLine.id))
            self.sender_donor.update({acct: donor for acct, donor in rows})
        self._programmes: dict[str, int] | None = None
        self._lines = lines
        self._donor_names: dict[str, int] | None = None
        self._pledges_by_name: dict[tuple[int, str], int] | None = None
        # the first words of those names: a memo's phrase can only be one if it starts so
        self.name_starts: set[str] = set()
        self.pending_starts: set[str] = set()

    @property
    def programmes(self) -> dict[str, int]:
        """Programme code → id, loaded only when a line needs suggestions."""
        if self._programmes is None:
            self._programmes = {code: pid for pid, code in db.session.execute(sa.select(Programme.id, Programme.code))}
        return self._programmes

    def donor_names(self) -> dict[str, int]:
        """Folded names of live donors with at least two words, to their id (ambiguous
        names dropped): loaded only when a line needs name suggestions."""
        if self._donor_names is None:
            names: dict[str, int] = {}
            ambiguous = set()
            for donor_id, name in db.session.execute(sa.select(Donor.id, Donor.name).where(Donor.merged_into_id.is_(None))):
                key = fold(name)
                if len(key.split()) < 2:
                    continue
                if key in names:
                    ambiguous.add(key)
                names[key] = donor_id
            self._donor_names = {k: v for k, v in names.items() if k not in ambiguous}
            self.name_starts = {k.split(" ", 1)[0] for k in self._donor_names}
        return self._donor_names

    def pending_by_name(self) -> dict[tuple[int, str], int]:
        """(amount, folded donor name) of unpaid pledges (pending or expired) → pledge id,
        for the amounts of this batch's lines."""
        if self._pledges_by_name is None:
            amounts = sorted({line.amount for line in self._lines})
            result: dict[tuple[int, str], int] = {}
            for condition in bulk.in_batches(TransferPledge.amount, amounts):
                for pid, amount, name in db.session.execute(sa.select(
                        TransferPledge.id, TransferPledge.amount, TransferPledge.donor_name).where(
                        TransferPledge.status.in_((PledgeStatus.PENDING.value, PledgeStatus.EXPIRED.value)),
                        condition)):
                    result.setdefault((amount, fold(name)), pid)
            self._pledges_by_name = result
            self.pending_starts = {name.split(" ", 1)[0] for _, name in result}
        return self._pledges_by_name


def _phrases(words: list[str], starts: set[str], longest: int = 6) -> list[str]:
    """The memo's runs of 2 to `longest` words that begin with one of `starts` (the first
    words of the names looked for: no other run can be one of them)."""
    found = []
    for i, word in enumerate(words):
        if word in starts:
            phrase = word
            for following in words[i + 1:i + longest]:
                phrase += " " + following
                found.append(phrase)
    return found


_ASCII_PUNCTUATION = re.compile(r"[^A-Za-z0-9]+")


def _words(memo: str) -> str:
    """The memo folded, with punctuation turned into spaces ("MBVCB.123.NGUYEN VAN A")."""
    folded = fold(memo)
    if folded.isascii():  # the common case (bank memos are ASCII): same result, one regex
        return " ".join(_ASCII_PUNCTUATION.sub(" ", folded).split())
    return " ".join("".join(c if c.isalnum() else " " for c in folded).split())


_RECEIVED, _EXPIRED = PledgeStatus.RECEIVED.value, PledgeStatus.EXPIRED.value
_IGNORED, _SUGGESTED = LineState.IGNORED.value, LineState.SUGGESTED.value
_MATCHED, _UNMATCHED = LineState.MATCHED.value, LineState.UNMATCHED.value


def decide(line: BankLine, ctx: Context) -> Outcome:
    if line.direction != "credit" or line.amount <= 0:
        return Outcome(_IGNORED, reason=line.state_reason or "Không phải khoản ghi có.")
    for code in ctx.codes.get(line.id, ()):
        pledge = ctx.pledges.get(code)
        if pledge is None:
            continue
        if pledge.status == PledgeStatus.STANDING.value:
            notes = []
            if line.amount != pledge.amount:
                notes.append(f"Số tiền nhận {format_vnd(line.amount)} khác số đăng ký hằng tháng "
                             f"{format_vnd(pledge.amount)}: ghi nhận theo số tiền thực nhận.")
            return Outcome(LineState.MATCHED.value, confidence=AUTO_CONFIRM, pledge_id=pledge.id, confirm=True,
                           reason=" ".join([f"Khớp mã ủng hộ hằng tháng {code}."] + notes), notes=notes)
        if pledge.status == _RECEIVED or pledge.id in ctx.claimed:
            return Outcome(_SUGGESTED, confidence=70, pledge_id=pledge.id,
                           reason=f"Mã {code} đã được thanh toán trước đó: có thể là lần chuyển thứ hai.",
                           suggestion={"pledge_id": pledge.id, "reasons": [
                               f"Mã chuyển khoản {code} (đã nhận một khoản trước đó)"]})
        ctx.claimed.add(pledge.id)
        notes = []
        if line.amount != pledge.amount:
            notes.append(f"Số tiền nhận {format_vnd(line.amount)} khác số đăng ký {format_vnd(pledge.amount)}: "
                         "ghi nhận theo số tiền thực nhận.")
        if pledge.status == _EXPIRED:
            notes.append("Mã đã hết hạn nhưng tiền vẫn đến: khôi phục và ghi nhận.")
        return Outcome(_MATCHED, confidence=AUTO_CONFIRM, pledge_id=pledge.id, confirm=True,
                       reason=" ".join([f"Khớp mã chuyển khoản {code}."] + notes), notes=notes)
    return suggest(line, ctx)


def suggest(line: BankLine, ctx: Context) -> Outcome:
    memo = _words(line.memo)
    sender = fold(line.sender_name or "")
    reasons: list[str] = []
    best: dict = {}
    confidence = 0
    if line.sender_account and line.sender_account in ctx.sender_donor:
        best["donor_id"] = ctx.sender_donor[line.sender_account]
        reasons.append(f"Tài khoản gửi {line.sender_account} đã ủng hộ trước đây")
        confidence = 80
    words, named = memo.split(), [sender] if sender else []
    pending = ctx.pending_by_name()
    amount = line.amount
    # the longest phrase that hits (the sender's name is one): no sort of every phrase
    hit = max((p for p in _phrases(words, ctx.pending_starts) + named if (amount, p) in pending),
              key=len, default=None)
    if hit is not None:
        best["pledge_id"] = pending[(amount, hit)]
        reasons.append("Cùng số tiền và tên người ủng hộ với một đăng ký chuyển khoản (thiếu mã)")
        confidence = max(confidence, 75)
    if "donor_id" not in best and "pledge_id" not in best:
        names = ctx.donor_names()
        hit = max((p for p in _phrases(words, ctx.name_starts) + named if p in names), key=len, default=None)
        if hit is not None:
            hit = names[hit]
            best["donor_id"] = hit
            reasons.append("Tên nhà hảo tâm có trong nội dung chuyển khoản")
            confidence = max(confidence, 60)
    padded = f" {memo} "
    for keyword, code in _PADDED_KEYWORDS:
        if keyword in padded and code in ctx.programmes:
            best["programme_id"] = ctx.programmes[code]
            reasons.append(f"Nội dung nhắc chương trình “{keyword.strip()}”")
            confidence = confidence or 40
            break
    if not reasons:
        return Outcome(_UNMATCHED, reason="Không tìm thấy mã chuyển khoản hay nhà hảo tâm phù hợp.")
    best["reasons"] = reasons
    return Outcome(_SUGGESTED, confidence=confidence, pledge_id=best.get("pledge_id"),
                   suggestion=best, reason="; ".join(reasons) + ".")


def _set_outcome(line: BankLine, outcome: Outcome) -> None:
    line.state, line.confidence, line.state_reason = outcome.state, outcome.confidence, outcome.reason
    line.suggestion, line.pledge_id = outcome.suggestion, outcome.pledge_id


def apply(line: BankLine, outcome: Outcome, actor: Actor) -> None:
    if outcome.confirm:  # the line takes the outcome inside record_from_line, with its donation
        pledge = db.session.get(TransferPledge, outcome.pledge_id)
        record_from_line(line, actor, pledge=pledge, note=" ".join(outcome.notes) or None, outcome=outcome)
        return
    _set_outcome(line, outcome)
    if outcome.state == LineState.SUGGESTED.value:
        audit.record(actor, "bank_line.suggest", line, after={"confidence": outcome.confidence,
                                                              "suggestion": outcome.suggestion})


def donor_from_line(line: BankLine, actor: Actor) -> Donor:
    """A new donor from the sender's name (and account, in the notes)."""
    name = " ".join((line.sender_name or "").split()) or "Nhà hảo tâm (chuyển khoản)"
    folded = fold(name)
    kind = DonorKind.ORGANIZATION.value if any(w in folded for w in ORGANIZATION_WORDS) else DonorKind.INDIVIDUAL.value
    donor = Donor(kind=kind, name=name.title() if name.isupper() and kind == DonorKind.INDIVIDUAL.value else name,
                  notes=f"Tạo từ giao dịch ngân hàng; tài khoản gửi {line.sender_account}" if line.sender_account else
                  "Tạo từ giao dịch ngân hàng.")
    db.session.add(donor)
    audit.record(actor, "donor.create", donor, after={"kind": kind, "source": "bank_line", "line_id": line.id})
    return donor


def _reference(line_id: int) -> str:
    """BANK-<line id>; after an undo the line's next donation gets BANK-<id>-2, -3… (exact,
    indexed look-ups only: it runs for every gift confirmed one by one)."""
    reference, n = f"BANK-{line_id}", 1
    while db.session.scalar(sa.select(Donation.id).where(Donation.reference == reference)) is not None:
        n += 1
        reference = f"BANK-{line_id}-{n}"
    return reference


def record_from_line(line: BankLine, actor: Actor, *, pledge: TransferPledge | None = None,
                     donor_id: int | None = None, programme_id: int | None = None,
                     appeal_id: int | None = None, note: str | None = None,
                     outcome: Outcome | None = None) -> Donation:
    """Record and confirm the donation a credit line brought (receipt issued and queued for
    e-mail through the ledger), in the caller's transaction. `outcome`: the matcher's
    decision, set on the line here (so the line is written once, with its donation).

    Statements are kept few (staff confirmations and standing pledges' months run this per
    gift): the donor is flushed for its id, then donation, line and pledge go in the flush
    that precedes the numbering of the receipt, so the year's counter stays locked only for
    the last inserts."""
    from app.services.donations.online import match_or_create_donor
    from app.services.bank import standing
    from app.services.bank.pledges import donation_request
    from app.services.setup import general_programme, get_settings

    if line.direction != "credit" or line.amount <= 0:
        raise ValueError("only a positive credit becomes a donation")
    settings = get_settings()  # held (the identity map is weak) so the ledger's reads of it are free
    gift = standing.lock(pledge.recurring_gift_id) if pledge is not None and pledge.recurring_gift_id else None
    month = None
    if gift is not None:  # a month of a standing pledge: the gift's donor and designation
        donor = gift.donor
        month = standing.month_for(gift, line.booked_at)
        note = " ".join(n for n in (f"Ủng hộ hằng tháng, tháng {standing.month_label(month)}.", note,
                                    gift.donor_note) if n)
        programme_id, appeal_id = gift.programme_id, gift.appeal_id
    elif pledge is not None:
        donor, donor_note = match_or_create_donor(donation_request(pledge), actor)
        note = " ".join(n for n in (note, donor_note) if n) or None
        programme_id, appeal_id = pledge.programme_id, pledge.appeal_id
    elif donor_id is not None:
        donor = db.session.get(Donor, donor_id)
    else:
        donor = donor_from_line(line, actor)
    if donor.id is None:
        db.session.flush([donor])  # its id for the donation and the audit entries
    now = utcnow()
    fresh = line.id in created_in_transaction()  # no donation can carry its reference yet
    donation = Donation(
        donor_id=donor.id, amount=line.amount, currency="VND", channel=Channel.BANK_TRANSFER.value,
        status=DonationStatus.PENDING.value, received_at=min(line.booked_at, now),
        programme_id=programme_id or general_programme().id, appeal_id=appeal_id,
        reference=f"BANK-{line.id}" if fresh else _reference(line.id), note=note, recorded_by_id=actor.user_id,
        public_message=pledge.message if pledge else None,
        recurring_gift_id=gift.id if gift is not None else None, recurring_month=month)
    db.session.add(donation)
    if gift is not None:
        db.session.flush()
        extra = standing.month_paid(gift, donation, line, actor)
        if extra:
            donation.note = f"{donation.note} {extra}"
    if outcome is not None:
        _set_outcome(line, outcome)
    line.donation, line.state = donation, LineState.MATCHED.value
    before = None
    if pledge is not None:
        line.pledge_id = pledge.id
    if pledge is not None and gift is None:  # a standing pledge stays open for the next months
        before = pledge.status
        pledge.status, pledge.donation, pledge.received_at = PledgeStatus.RECEIVED.value, donation, now
    audit.record(actor, "donation.record", donation, after={
        "amount": line.amount, "channel": donation.channel, "donor_id": donor.id, "bank_line_id": line.id,
        "pledge": pledge.code if pledge else None})
    confirm_in_tx(donation, actor)
    del settings
    if pledge is not None and gift is None:
        audit.record(actor, "pledge.receive", pledge, before={"status": before},
                     after={"status": pledge.status, "donation_id": donation.id, "amount": line.amount})
    audit.record(actor, "bank_line.match", line, after={"donation_id": donation.id, "pledge_id": line.pledge_id,
                                                        "reason": line.state_reason})
    return donation
