"""Consumption tax per invoice and rate (rounded once per rate, truncated), visible months, card checks."""

from datetime import date

import pytest

from mypage.billing.cards import brand_of, clean_number, luhn_ok, parse_expiry, validate_card
from mypage.billing.service import compute_totals, fiscal_year_of, tax_for, visible_months


def line(amount, rate=10):
    return {"amount": amount, "tax_rate": rate}


@pytest.mark.parametrize(
    "base, rate, tax",
    [
        (0, 10, 0),
        (9, 10, 0),
        (10, 10, 1),
        (19, 10, 1),
        (3300, 10, 330),
        (3309, 10, 330),
        (12, 8, 0),
        (13, 8, 1),
        (1249, 8, 99),
        (1250, 8, 100),
        (-105, 10, -10),  # truncation towards zero: the credit is never rounded up
        (-9, 10, 0),
    ],
)
def test_tax_for_truncates(base, rate, tax):
    assert tax_for(base, rate) == tax


def test_seed_example_single_rate():
    totals = compute_totals([line(3300)])
    assert [(r.rate, r.base, r.tax) for r in totals.rates] == [(10, 3300, 330)]
    assert totals.total == 3630


def test_rounded_once_per_rate_not_per_line():
    # Per line: 3 x floor(15 * 0.1) = 3; per rate: floor(45 * 0.1) = 4.
    totals = compute_totals([line(15), line(15), line(15)])
    assert totals.rate(10).tax == 4
    assert totals.total == 49


def test_mixed_rates_ordered_and_separate():
    totals = compute_totals([line(1000, 8), line(2095, 10), line(999, 8), line(5, 10)])
    assert [r.rate for r in totals.rates] == [10, 8]
    assert totals.rate(10).base == 2100 and totals.rate(10).tax == 210
    assert totals.rate(8).base == 1999 and totals.rate(8).tax == 159  # 159.92
    assert totals.rate(8).reduced and not totals.rate(10).reduced
    assert totals.subtotal == 4099
    assert totals.tax == 369
    assert totals.total == 4468


def test_zero_rate_lines_are_untaxed_and_counted():
    totals = compute_totals([line(500, 0), line(1000, 10)])
    assert [r.rate for r in totals.rates] == [10]
    assert totals.has_untaxed and totals.untaxed == 500
    assert totals.total == 1000 + 100 + 500


def test_zero_rate_only():
    totals = compute_totals([line(300, 0)])
    assert totals.rates == [] and totals.tax == 0 and totals.total == 300


def test_negative_discount_lines_reduce_the_base_before_rounding():
    totals = compute_totals([line(3300), line(-1105)])
    assert totals.rate(10).base == 2195
    assert totals.rate(10).tax == 219  # 219.5 truncated
    assert totals.total == 2414


def test_discount_larger_than_charges():
    totals = compute_totals([line(100), line(-1205)])
    assert totals.rate(10).base == -1105
    assert totals.rate(10).tax == -110  # -110.5 towards zero
    assert totals.total == -1215


def test_empty_invoice():
    totals = compute_totals([])
    assert totals.total == 0 and totals.rates == [] and not totals.has_untaxed


def test_objects_with_attributes():
    class L:
        def __init__(self, amount, tax_rate):
            self.amount, self.tax_rate = amount, tax_rate

    assert compute_totals([L(100, 10), L(100, 8)]).total == 218


def test_negative_rate_refused():
    with pytest.raises(ValueError):
        compute_totals([line(100, -1)])


def test_visible_months_newest_first_limit_and_earliest():
    months = [f"2020-{m:02d}" for m in range(1, 13)] + ["2021-01", "2021-01"]
    assert visible_months(months, limit=3, earliest="2020-07") == ["2021-01", "2020-12", "2020-11"]
    assert visible_months(months, limit=15, earliest="2020-07") == [
        "2021-01",
        "2020-12",
        "2020-11",
        "2020-10",
        "2020-09",
        "2020-08",
        "2020-07",
    ]
    assert visible_months([], limit=15, earliest="2020-07") == []


def test_fiscal_year():
    assert fiscal_year_of("2023-12") == 2023
    assert fiscal_year_of("2024-03", 4) == 2023
    assert fiscal_year_of("2024-04", 4) == 2024


# --- cards -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4111111111111111", "Visa"),
        ("5555555555554444", "Mastercard"),
        ("2221000000000009", "Mastercard"),
        ("2720990000000007", "Mastercard"),
        ("3530111333300000", "JCB"),
        ("378282246310005", "American Express"),
        ("341111111111111", "American Express"),
        ("36227206271667", "Diners Club"),
        ("30569309025904", "Diners Club"),
        ("6011111111111117", "Discover"),
        ("2220990000000000", None),
        ("2721000000000000", None),
        ("3527000000000000", None),
        ("1234567890123456", None),
    ],
)
def test_brand_from_iin(number, brand):
    assert brand_of(number) == brand


def test_luhn_and_cleaning():
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert clean_number("４１１１ １１１１-1111 1111") == "4111111111111111"


def test_expiry_parsing():
    assert parse_expiry("08/29") == (8, 2029)
    assert parse_expiry("０８／２９") == (8, 2029)
    assert parse_expiry("0829") == (8, 2029)
    assert parse_expiry("8/2029") == (8, 2029)
    assert parse_expiry("13/29") is None
    assert parse_expiry("abc") is None


TODAY = date(2026, 6, 15)


def form(**changes):
    data = {"card_number": "4111 1111 1111 1111", "expiry": "06/26", "holder": "TARO YAMADA", "cvc": "123"}
    data.update(changes)
    return data


def test_valid_card():
    card, errors = validate_card(form(), TODAY)
    assert errors == {}
    assert card.brand == "Visa" and card.number == "4111111111111111" and (card.exp_month, card.exp_year) == (6, 2026)
    assert "4111111111111111" not in repr(card) and "123" not in str(card)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"card_number": ""}, "card_number"),
        ({"card_number": "4111111111111112"}, "card_number"),  # Luhn
        ({"card_number": "411111111111111"}, "card_number"),  # length
        ({"card_number": "9111111111111111"}, "card_number"),  # unknown brand
        ({"card_number": "4111abcd11111111"}, "card_number"),
        ({"expiry": "05/26"}, "expiry"),  # last month
        ({"expiry": "2026-06"}, "expiry"),
        ({"expiry": ""}, "expiry"),
        ({"holder": "taro yamada"}, "holder"),
        ({"holder": "山田太郎"}, "holder"),
        ({"holder": ""}, "holder"),
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "12345"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
        ({"card_number": "378282246310005", "cvc": "123"}, "cvc"),  # Amex has 4 digits
    ],
)
def test_invalid_card_fields(changes, field):
    card, errors = validate_card(form(**changes), TODAY)
    assert card is None
    assert errors.get(field)


def test_full_width_input_is_accepted():
    card, errors = validate_card(form(holder="ＴＡＲＯ　ＹＡＭＡＤＡ", cvc="１２３"), TODAY)
    assert errors == {} and card.holder == "TARO YAMADA"
