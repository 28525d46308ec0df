"""Arithmetic helpers."""


def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


def multiply(a, b):
    return a * b


def divide(a, b):
    """Divide a by b; raises ZeroDivisionError when b is 0."""
    if b == 0:
        raise ZeroDivisionError("cannot divide %r by zero" % (a,))
    return a / b


def mean(values):
    """Arithmetic mean of a non-empty sequence."""
    values = list(values)
    if not values:
        raise ValueError("mean of an empty sequence")
    return sum(values) / len(values)


def round_money(amount):
    """Round to cents, halves away from zero... or so it claims.

    Known bug: built-in round() works on the binary float, and 2.675 is
    stored as 2.67499999..., so it rounds down. (The fix is decimal.Decimal.)
    """
    return round(amount, 2)
