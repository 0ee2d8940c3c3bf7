"""Money of documents: currencies (ISO 4217, from the `iso4217` package), tax rates in
basis points, and the totals, all in integer minor units (never floats)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from iso4217 import Currency

from fieldapi.errors import Unprocessable

MAX_LINES = 200
#: The largest total a document may reach, in minor units: 10^13 (a hundred billion
#: dollars) stays far inside a JavaScript number's exact integers and a bigint.
MAX_TOTAL = 10**13
MAX_QUANTITY = Decimal(1_000_000)


def check_currency(code: str) -> str:
    """An ISO 4217 code with minor units (`USD`, `JPY`); 422 for anything else."""
    try:
        currency = Currency(code)
    except ValueError as error:
        raise Unprocessable(
            f"Unknown currency {code!r}; use an ISO 4217 code like USD.",
            errors={"currency": ["Unknown ISO 4217 currency."]},
        ) from error
    if currency.exponent is None:  # XXX, XAU...: not money one is invoiced in
        raise Unprocessable(
            f"{code} is not a currency documents can be priced in.",
            errors={"currency": ["Not a priced currency."]},
        )
    return str(currency.code)


def minor_unit_digits(code: str) -> int:
    exponent = Currency(code).exponent
    return 0 if exponent is None else exponent


def rate_bp(percent: Decimal | float | int, field: str = "tax_rate_pct") -> int:
    """A percentage (0 to 100, up to two decimals) as basis points (8.25 -> 825)."""
    value = Decimal(str(percent))
    if not value.is_finite() or value < 0 or value > 100:
        raise Unprocessable(
            f"A tax rate is between 0 and 100 %, not {percent}.",
            errors={field: ["Between 0 and 100."]},
        )
    bp = value * 100
    if bp != bp.to_integral_value():
        raise Unprocessable(
            "A tax rate has at most two decimals.", errors={field: ["At most two decimals."]}
        )
    return int(bp)


def percent_of_bp(bp: int) -> float:
    return bp / 100


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: int
    tax_rate_bp: int | None = None


@dataclass(frozen=True)
class PricedLine:
    line: LineInput
    amount: int
    tax: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[PricedLine, ...]
    subtotal: int
    tax: int
    total: int


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price(lines: list[LineInput], default_rate_bp: int) -> Totals:
    """Each line's amount (quantity x unit price) and tax, rounded half up to a minor
    unit per line, and the sums; 422 past MAX_LINES or MAX_TOTAL."""
    if not lines:
        raise Unprocessable("A document needs at least one line.", errors={"lines": ["Empty."]})
    if len(lines) > MAX_LINES:
        raise Unprocessable(
            f"A document has at most {MAX_LINES} lines.",
            errors={"lines": [f"At most {MAX_LINES}."]},
        )
    priced = []
    for position, line in enumerate(lines):
        if line.quantity <= 0 or line.quantity > MAX_QUANTITY or line.unit_price < 0:
            raise Unprocessable(
                f"Line {position + 1}: the quantity is above 0 (at most {MAX_QUANTITY}) "
                "and the unit price 0 or more.",
                errors={"lines": {str(position): ["Negative or zero quantity or price."]}},
            )
        amount = _round(line.quantity * line.unit_price)
        rate = default_rate_bp if line.tax_rate_bp is None else line.tax_rate_bp
        tax = _round(Decimal(amount) * rate / 10_000)
        if amount > MAX_TOTAL:
            raise _overflow()
        priced.append(PricedLine(line, amount, tax))
    subtotal = sum(p.amount for p in priced)
    tax = sum(p.tax for p in priced)
    if subtotal + tax > MAX_TOTAL:
        raise _overflow()
    return Totals(tuple(priced), subtotal, tax, subtotal + tax)


def _overflow() -> Unprocessable:
    return Unprocessable(
        f"The total may not pass {MAX_TOTAL} minor units.", errors={"lines": ["Total too large."]}
    )


def format_amount(minor: int, currency: str) -> str:
    """`1234.50 USD` style, with the currency's own number of decimals."""
    digits = minor_unit_digits(currency)
    if digits == 0:
        return f"{minor:,} {currency}"
    units, cents = divmod(minor, 10**digits)
    return f"{units:,}.{cents:0{digits}d} {currency}"
