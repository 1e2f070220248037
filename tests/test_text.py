"""Tests for app.text: folding, organisation names and Vietnamese sort order."""

import random
import unicodedata

import pytest

from app.text import (
    fold,
    normalize_org_name,
    vietnamese_person_sort_key,
    vietnamese_sort_key,
)

pytestmark = pytest.mark.nodb

# ---------------------------------------------------------------------------
# fold
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  Nguyễn  Văn  AN ", "nguyen van an"),
        ("ĐỖ THỊ HƯƠNG", "do thi huong"),
        ("Đặng Ngọc Ánh", "dang ngoc anh"),
        ("Ưng Hoàng Phúc", "ung hoang phuc"),
        ("Phường Lê Chân", "phuong le chan"),
        ("Quỹ Bảo trợ trẻ em Hải Phòng", "quy bao tro tre em hai phong"),
        ("ăâêôơư ĂÂÊÔƠƯ", "aaeoou aaeoou"),
        ("àảãáạ ằẳẵắặ ầẩẫấậ", "aaaaa aaaaa aaaaa"),
        ("Trần\tThị\nMai", "tran thi mai"),
        ("Hải\u00a0Phòng", "hai phong"),  # no-break space
        ("Hải\u200bPhòng", "haiphong"),  # zero-width space is dropped
        ("Ngô\u00adQuyền", "ngoquyen"),  # soft hyphen is dropped
        ("\u00d0INH", "dinh"),  # eth, as left by old TCVN3/VNI conversions
        ("ＡＢＣ", "abc"),  # full-width letters
        ("Hoà", "hoa"),
        ("Hòa", "hoa"),
        ("Thép Hải Phòng 2024", "thep hai phong 2024"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


def test_fold_same_result_for_composed_and_decomposed_input():
    name = "Nguyễn Thị Ngọc Ánh"
    assert fold(unicodedata.normalize("NFD", name)) == "nguyen thi ngoc anh"
    assert fold(unicodedata.normalize("NFC", name)) == "nguyen thi ngoc anh"


def test_fold_refuses_non_text():
    with pytest.raises(TypeError):
        fold(123)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# normalize_org_name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Công ty TNHH Thép Hải Phòng",
        "Cty TNHH Thép Hải Phòng",
        "CTY TNHH THÉP HẢI PHÒNG",
        "CÔNG TY TRÁCH NHIỆM HỮU HẠN THÉP HẢI PHÒNG",
        "Công ty TNHH MTV Thép Hải Phòng",
        "Công ty TNHH Một thành viên Thép Hải Phòng",
        "Công ty Cổ phần Thép Hải Phòng",
        "CTCP Thép Hải Phòng",
        "Cty CP Thép Hải Phòng",
        "Cty. CP Thép Hải Phòng",
        "C.ty TNHH Thép Hải Phòng",
        "Tổng công ty Thép Hải Phòng",
        "Doanh nghiệp tư nhân Thép Hải Phòng",
        "DNTN Thép Hải Phòng",
        "Thép Hải Phòng JSC",
        "Thép Hải Phòng Co., Ltd.",
        "Thép Hải Phòng (Công ty TNHH)",
        '"Thép Hải Phòng"',
        "  thép   hải phòng  ",
    ],
)
def test_normalize_org_name_same_company(name):
    assert normalize_org_name(name) == "thep hai phong"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Ngân hàng TMCP Ngoại thương Việt Nam", "ngan hang ngoai thuong viet nam"),
        (
            "Ngân hàng Thương mại Cổ phần Ngoại thương Việt Nam",
            "ngan hang ngoai thuong viet nam",
        ),
        (
            "Ngân hàng TMCP Công thương Việt Nam - Chi nhánh Hải Phòng",
            "ngan hang cong thuong viet nam chi nhanh hai phong",
        ),
        (
            "Chi nhánh Công ty TNHH ABC tại Hải Phòng",
            "chi nhanh abc tai hai phong",
        ),
        ("Công ty Cổ phần Thương mại Hải Phòng", "thuong mai hai phong"),
        ("Công ty CP Đầu tư - Xây dựng (Hải Phòng)", "dau tu xay dung hai phong"),
        ("Công ty TNHH Thép & Xây dựng Hải Phòng", "thep xay dung hai phong"),
        ("Hợp tác xã Nông nghiệp Tân Tiến", "nong nghiep tan tien"),
        ("HTX Nông nghiệp Tân Tiến", "nong nghiep tan tien"),
        ("Tổng công ty Điện lực miền Bắc", "dien luc mien bac"),
        # "C.P." is part of this company's name, not its legal form.
        ("Công ty CP Chăn nuôi C.P. Việt Nam", "chan nuoi c p viet nam"),
        ("Hai Phong Steel Joint Stock Company", "hai phong steel"),
        ("ABC Company Limited", "abc"),
        ("Trường Tiểu học Ngô Quyền", "truong tieu hoc ngo quyen"),
        ("Hội Chữ thập đỏ thành phố Hải Phòng", "hoi chu thap do thanh pho hai phong"),
        # Nothing but a legal form: keep it rather than return "".
        ("Công ty TNHH", "cong ty tnhh"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_org_name(name, expected):
    assert normalize_org_name(name) == expected


def test_normalize_org_name_keeps_different_companies_apart():
    assert normalize_org_name("Công ty TNHH Thép Hải Phòng") != normalize_org_name(
        "Công ty TNHH Thép Hải Dương"
    )


# ---------------------------------------------------------------------------
# vietnamese_sort_key
# ---------------------------------------------------------------------------


def _vn_sorted(items):
    return sorted(items, key=vietnamese_sort_key)


@pytest.mark.parametrize(
    "before, after",
    [
        ("An", "Ân"),
        ("Ân", "Bình"),
        ("Bình", "Dũng"),
        ("Dũng", "Đạt"),
        ("Đạt", "Giang"),
        ("Duy", "Đa"),  # every D word before any Đ word
        ("Dương", "Đào"),
        ("a", "ă"),
        ("ă", "â"),
        ("â", "b"),
        ("e", "ê"),
        ("ê", "g"),
        ("o", "ô"),
        ("ô", "ơ"),
        ("ơ", "p"),
        ("u", "ư"),
        ("ư", "v"),
        ("x", "y"),
        ("Anh", "Ân"),  # â is a later letter than a, whatever follows
        ("Hà", "Hai"),  # letters first, tone only breaks ties
        ("Hải", "Hàm"),
        ("ma", "mà"),
        ("mà", "mả"),
        ("mả", "mã"),
        ("mã", "má"),
        ("má", "mạ"),
        ("mạ", "mác"),
        ("Ba Vì", "Bà Rịa"),  # syllable by syllable: "ba" < "bà" decides
        ("Lê An", "Lê Ân"),
        ("Lê", "Lê An"),
        ("Lê Văn", "Lệ"),
        ("Chi", "Chí"),
        ("Chi", "Cường"),  # second letter: h comes before ư
    ],
)
def test_vietnamese_sort_key_orders_pairs(before, after):
    assert vietnamese_sort_key(before) < vietnamese_sort_key(after)
    assert _vn_sorted([after, before]) == [before, after]


def test_vietnamese_sort_key_sorts_a_realistic_list():
    wards = [
        "Lê Chân",
        "Ngô Quyền",
        "Hồng Bàng",
        "An Dương",
        "An Biên",
        "Đồ Sơn",
        "Dương Kinh",
        "Kiến An",
        "Hải An",
        "Thủy Nguyên",
        "Chí Linh",
        "Cẩm Giàng",
        "Kinh Môn",
        "Bạch Đằng",
        "Đông Hải",
        "Hà Nam",
        "Hải Dương",
        "Tiên Lãng",
        "Uông Bí",
        "Ứng Hòa",
        "Vĩnh Bảo",
    ]
    expected = [
        "An Biên",
        "An Dương",
        "Bạch Đằng",
        "Cẩm Giàng",
        "Chí Linh",
        "Dương Kinh",
        "Đồ Sơn",
        "Đông Hải",
        "Hà Nam",
        "Hải An",
        "Hải Dương",
        "Hồng Bàng",
        "Kiến An",
        "Kinh Môn",
        "Lê Chân",
        "Ngô Quyền",
        "Thủy Nguyên",
        "Tiên Lãng",
        "Uông Bí",
        "Ứng Hòa",
        "Vĩnh Bảo",
    ]
    assert _vn_sorted(wards) == expected
    shuffled = wards[:]
    random.Random(2024).shuffle(shuffled)
    assert _vn_sorted(shuffled) == expected


def test_vietnamese_sort_key_tone_order():
    syllables = ["mạ", "má", "mã", "mả", "mà", "ma"]
    assert _vn_sorted(syllables) == ["ma", "mà", "mả", "mã", "má", "mạ"]


def test_vietnamese_sort_key_is_case_insensitive():
    assert vietnamese_sort_key("an")[0] == vietnamese_sort_key("AN")[0]
    assert _vn_sorted(["bình", "An", "ĐẠT", "dũng"]) == ["An", "bình", "dũng", "ĐẠT"]


def test_vietnamese_sort_key_ignores_tone_mark_position_and_normal_form():
    # Old ("hoà") and new ("hòa") tone placement, composed or decomposed, are
    # the same syllable; only the final tie-break (the NFC text) may differ.
    keys = [
        vietnamese_sort_key("hoà"),
        vietnamese_sort_key("hòa"),
        vietnamese_sort_key(unicodedata.normalize("NFD", "hòa")),
    ]
    assert keys[0][0] == keys[1][0] == keys[2][0]
    assert keys[1] == keys[2]


def test_vietnamese_sort_key_punctuation_only_separates_words():
    assert vietnamese_sort_key("Bà Rịa-Vũng Tàu")[0] == vietnamese_sort_key("Bà Rịa Vũng Tàu")[0]


def test_vietnamese_sort_key_digits_before_letters_and_none_first():
    # None and "" have equal keys, so the stable sort keeps them in input order.
    assert _vn_sorted(["An", "3 Tháng 2", None, ""]) == [None, "", "3 Tháng 2", "An"]
    assert vietnamese_sort_key(None) == vietnamese_sort_key("")


def test_vietnamese_sort_key_differs_from_code_point_order():
    names = ["Đạt", "Ứng", "Ân", "Vân", "Dũng", "Ánh"]
    assert sorted(names) != _vn_sorted(names)
    assert _vn_sorted(names) == ["Ánh", "Ân", "Dũng", "Đạt", "Ứng", "Vân"]


# ---------------------------------------------------------------------------
# vietnamese_person_sort_key
# ---------------------------------------------------------------------------


def test_vietnamese_person_sort_key_sorts_by_given_name_then_full_name():
    donors = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Văn An",
        "Phạm Thị Ánh",
        "Đỗ Minh Đức",
        "Hoàng Văn Dũng",
        "Vũ Thị Ân",
        "Bùi Quang Anh",
        "Ngô Thị Hà",
        "Đặng Văn Hải",
        "Nguyễn Thị Yến",
        "Lý Thị Xuân",
    ]
    expected = [
        "Lê Văn An",
        "Nguyễn Văn An",
        "Bùi Quang Anh",
        "Phạm Thị Ánh",
        "Vũ Thị Ân",
        "Trần Thị Bình",
        "Hoàng Văn Dũng",
        "Đỗ Minh Đức",
        "Ngô Thị Hà",
        "Đặng Văn Hải",
        "Lý Thị Xuân",
        "Nguyễn Thị Yến",
    ]
    assert sorted(donors, key=vietnamese_person_sort_key) == expected
    shuffled = donors[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=vietnamese_person_sort_key) == expected


@pytest.mark.parametrize(
    "before, after",
    [
        ("Trần Thị Bình", "Nguyễn Văn Cường"),  # given name decides, not family name
        ("Lê Văn An", "Nguyễn Văn An"),  # same given name: full name decides
        ("Nguyễn An", "Nguyễn Văn An"),  # "Nguyễn An" < "Nguyễn Văn An"
        ("Dương Văn Dũng", "Đỗ Văn Dũng"),  # D before Đ in the family name too
        ("Đinh Thị Duyên", "Đỗ Văn Đạt"),  # Duyên (D) before Đạt (Đ)
        ("  nguyễn   văn an ", "Trần Văn Ân"),
    ],
)
def test_vietnamese_person_sort_key_pairs(before, after):
    assert vietnamese_person_sort_key(before) < vietnamese_person_sort_key(after)


def test_vietnamese_person_sort_key_empty_and_single_word():
    assert vietnamese_person_sort_key("") == vietnamese_person_sort_key(None)
    assert sorted(["Bình", "", "An"], key=vietnamese_person_sort_key) == ["", "An", "Bình"]
