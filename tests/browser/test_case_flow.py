"""A heart-surgery case from intake to closure in Chromium: the case worker registers and
proposes, the director approves, the case worker records a payout with its proof, the
director approves the payout, the case worker closes the case."""
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from app.extensions import db
from app.models import Disbursement, Role, SupportCase
from tests import factories
from tests.browser.helpers import sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def sign_out(page):
    page.get_by_role("button", name="Đăng xuất").click()


def test_heart_case_from_intake_to_closure(page, live_server, tmp_path):
    live_server.app.config["UPLOAD_FOLDER"] = str(tmp_path)
    factories.user(Role.CASE_WORKER.value, email="ctxh@example.org", name="Vũ Thị Mai Anh")
    factories.user(Role.DIRECTOR.value, email="giamdoc@example.org", name="Phạm Thị Thanh Hương")
    factories.donation(amount=100_000_000, programme_code="heart",
                       received_at=datetime.now(timezone.utc) - timedelta(days=2))
    url = live_server.url

    sign_in(page, url, "ctxh@example.org")
    page.get_by_role("button", name="Hỗ trợ trẻ em").click()
    page.get_by_role("link", name="Hồ sơ hỗ trợ").click()
    page.get_by_role("link", name="Tiếp nhận hồ sơ mới").click()
    page.get_by_label("Chương trình").select_option(label="Phẫu thuật tim bẩm sinh")
    page.get_by_label("Họ tên trẻ").fill("Đoàn Thị Bích Hạnh")
    page.get_by_label("Ngày sinh").fill("2021-03-14")
    page.get_by_label("Giới tính").select_option("female")
    page.get_by_label("Họ tên người giám hộ").fill("Đoàn Văn Quý")
    page.get_by_label("Quan hệ với trẻ").fill("Bố")
    page.get_by_label("Hộ nghèo", exact=True).check()
    page.get_by_label("Chẩn đoán").fill("Thông liên thất")
    page.get_by_label("Số tiền đề nghị hỗ trợ (đ)").fill("40.000.000")
    page.get_by_role("button", name="Lưu hồ sơ").click()
    assert page.get_by_text("Đã tiếp nhận hồ sơ HS-").is_visible()
    page.get_by_role("button", name="Bắt đầu thẩm định").click()
    assert page.get_by_text("đã chuyển sang «Đang thẩm định»").is_visible()
    page.get_by_role("button", name="Đề xuất hỗ trợ").click()  # refused: no consent yet
    assert page.get_by_text("Cần ghi nhận sự đồng ý của người giám hộ trước khi đề xuất.").is_visible()
    page.get_by_role("link", name="Đồng ý & công bố").click()
    page.get_by_label("Ngày người giám hộ đồng ý").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Lưu thông tin đồng ý").click()
    page.get_by_role("button", name="Đề xuất hỗ trợ").click()
    assert page.get_by_text("đã chuyển sang «Đã đề xuất»").is_visible()
    assert page.get_by_role("button", name="Phê duyệt").count() == 0  # not the case worker's step
    case_url = page.url
    sign_out(page)

    sign_in(page, url, "giamdoc@example.org")
    page.goto(case_url)
    assert page.get_by_test_id("child-name").inner_text() == "Đoàn Thị Bích Hạnh"
    page.get_by_label("Số tiền phê duyệt").fill("35.000.000")
    page.get_by_role("button", name="Phê duyệt").click()
    assert page.get_by_text("đã chuyển sang «Đã phê duyệt»").is_visible()
    sign_out(page)

    sign_in(page, url, "ctxh@example.org")
    page.goto(case_url)
    page.get_by_role("link", name="Ghi khoản chi").click()
    page.get_by_label("Số tiền (đ)").fill("36.000.000")
    page.get_by_label("Tên đơn vị / người nhận").fill("Bệnh viện Trẻ em Hải Phòng")
    page.get_by_role("button", name="Ghi khoản chi (chờ duyệt)").click()
    assert page.get_by_text("Vượt mức hỗ trợ đã duyệt").is_visible()
    page.get_by_label("Số tiền (đ)").fill("35.000.000")
    page.get_by_label("Số phiếu chi / chứng từ").fill("PC-2026-0101")
    page.get_by_label("Chứng từ (PDF, JPG, PNG, tối đa 10 MB)").set_input_files(
        files=[{"name": "hoa-don-vien-phi.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Ghi khoản chi (chờ duyệt)").click()
    assert page.get_by_text("chờ lãnh đạo duyệt").is_visible()
    sign_out(page)

    sign_in(page, url, "giamdoc@example.org")
    page.get_by_role("button", name="Hỗ trợ trẻ em").click()
    page.get_by_role("link", name="Khoản chi").click()
    page.get_by_role("button", name="Duyệt chi").click()
    assert page.get_by_test_id("confirm-step").is_visible()  # a confirmation step first
    page.get_by_role("button", name="Duyệt khoản chi").click()
    assert page.get_by_text("Đã duyệt khoản chi.").is_visible()
    page.goto(url + "/staff/programme-balances")
    assert page.get_by_test_id("balance-heart").inner_text() == "65.000.000\u00a0₫"
    sign_out(page)

    sign_in(page, url, "ctxh@example.org")
    page.goto(case_url)
    assert page.get_by_test_id("spent").inner_text() == "35.000.000\u00a0₫"
    page.get_by_role("button", name="Đóng hồ sơ").click()
    assert page.get_by_text("đã chuyển sang «Đã đóng»").is_visible()

    db.session.expire_all()
    case = db.session.scalars(sa.select(SupportCase)).one()
    assert case.state == "closed" and case.support_approved == 35_000_000
    assert [t.to_state for t in case.transitions] == [
        "intake", "assessment", "proposed", "approved", "disbursing", "closed"]
    payout = db.session.scalars(sa.select(Disbursement)).one()
    assert payout.status == "approved" and payout.proof_document.content_type == "application/pdf"
    db.session.commit()
