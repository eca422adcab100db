"""Normalisers: one module per kind of value (Khmer text, names, dates, phones, places)."""
