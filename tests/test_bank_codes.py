"""Transfer codes survive what banks and donors do to a memo; a wrong check char is no match."""
import pytest

from app.services.bank import codes

pytestmark = pytest.mark.nodb


def test_codes_are_short_upper_case_without_look_alikes_and_valid():
    for _ in range(200):
        code = codes.new_code()
        assert len(code) == 11 and code.startswith("QBTE") and codes.is_valid(code)
        assert not set(code[4:]) & set("01OILU")


@pytest.mark.parametrize("memo", [
    "MBVCB.4525077405.{c}.NGUYEN VAN A chuyen tien",
    "IBFT {a} {b} {d}",
    "{lower} ung ho",
    "CT DEN:0123 {a}-{b}-{d} UNG HO MO TIM",
    "{a}\n{b}{d}",
    "{a}.{b}.{d}",
    "TRAN THI B chuyen khoan{c}",
    "q.b t-e {b}{d} ung ho",  # the prefix itself broken up
    "Ủng hộ quỹ: {lower}",  # diacritics
])
def test_code_is_found_after_banks_rewrite_the_memo(memo):
    code = codes.new_code()
    text = memo.format(c=code, a=code[:4], b=code[4:8], d=code[8:], lower=code.lower())
    assert codes.find_codes(text) == [code]


def test_a_wrong_check_character_or_a_typo_is_not_a_match():
    code = codes.new_code()
    for i in range(4, 11):
        for char in codes.ALPHABET:
            if char != code[i]:
                typo = code[:i] + char + code[i + 1:]
                assert codes.find_codes(f"UNG HO {typo}") == []


def test_swapped_neighbours_are_almost_always_caught():
    caught = tried = 0
    for _ in range(300):
        code = codes.new_code()
        for i in range(4, 10):
            if code[i] != code[i + 1]:
                tried += 1
                caught += codes.find_codes(code[:i] + code[i + 1] + code[i] + code[i + 2:]) == []
    assert caught / tried > 0.95


def test_memos_without_a_code():
    assert codes.find_codes("ung ho quy tre em") == []
    assert codes.find_codes("CONG TY TNHH ABC UNG HO MO TIM") == []
    assert codes.find_codes("") == []
