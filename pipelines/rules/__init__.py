"""Pure row rules: resident IDs, credit codes, phones and value parsing, each as a scalar
function and as a vectorised Polars expression builder."""

from . import idcard, phone, uscc, values

__all__ = ["idcard", "phone", "uscc", "values"]
