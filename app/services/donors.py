"""Donor records: merging duplicates."""
from __future__ import annotations

import sqlalchemy as sa

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Donation, Donor
from app.services import audit
from app.services.audit import Actor
from app.i18n import _, _l, vietnamese


# Lazy labels (the merge page shows them); the notes a merge writes stay Vietnamese.
CHOOSABLE = {"name": _l("Tên"), "email": _l("Email"), "phone": _l("Điện thoại"), "address": _l("Địa chỉ"),
             "representative": _l("Người đại diện")}


def merge_donors(survivor_id: int, merged_id: int, actor: Actor,
                 keep: dict[str, str] | None = None) -> Donor:
    """Merge a duplicate into a survivor: its donations (and so receipts and totals,
    including the commendation list) move to the survivor, the merged record points at
    it and stays for history. Never automatic: a person confirms each merge.

    `keep` says, per field of CHOOSABLE, whose value survives ("survivor" or "merged");
    by default the survivor's, or the duplicate's where the survivor has none. A differing
    value that does not survive is written into the survivor's notes, so no phone or
    e-mail is lost."""
    keep = keep or {}
    if survivor_id == merged_id:
        raise ValidationFailed(_("Không thể gộp một nhà hảo tâm với chính mình."))
    survivor, merged = db.session.get(Donor, survivor_id), db.session.get(Donor, merged_id)
    if survivor is None or merged is None:
        raise NotFound(_("Không tìm thấy nhà hảo tâm."))
    if survivor.merged_into_id is not None or merged.merged_into_id is not None:
        raise Conflict(_("Hồ sơ này đã được gộp trước đó."))
    if survivor.kind != merged.kind:
        raise Conflict(_("Không thể gộp tập thể với cá nhân."))
    if survivor.tax_code and merged.tax_code and survivor.tax_code != merged.tax_code:
        raise Conflict(_("Hai hồ sơ có mã số thuế khác nhau, không thể gộp."))
    moved = db.session.scalars(sa.select(Donation.id).where(Donation.donor_id == merged.id)).all()
    db.session.execute(sa.update(Donation).where(Donation.donor_id == merged.id)
                       .values(donor_id=survivor.id))
    merged.merged_into_id = survivor.id
    db.session.flush()  # merged rows leave the MST unique index (it covers live records only)
    before = {f: getattr(survivor, f) for f in CHOOSABLE}
    kept_aside = []
    for field, label in CHOOSABLE.items():
        mine, theirs = getattr(survivor, field), getattr(merged, field)
        take_theirs = theirs is not None and (keep.get(field) == "merged" or mine is None)
        if take_theirs:
            setattr(survivor, field, theirs)
        loser = mine if take_theirs else theirs
        if loser and loser != getattr(survivor, field):
            with vietnamese():
                kept_aside.append(f"{str(label)}: {loser}")
    for field in ("tax_code", "admin_unit_id"):
        if getattr(survivor, field) is None and getattr(merged, field) is not None:
            setattr(survivor, field, getattr(merged, field))
    if kept_aside:
        line = f"Từ hồ sơ #{merged.id} đã gộp — " + "; ".join(kept_aside)
        survivor.notes = f"{survivor.notes}\n{line}" if survivor.notes else line
    audit.record(actor, "donor.merge", survivor, before=before,
                 after={"merged_donor_id": merged.id, "merged_name": merged.name, "donations_moved": moved,
                        **{f: getattr(survivor, f) for f in CHOOSABLE}, "kept_in_notes": kept_aside})
    db.session.commit()
    return survivor
