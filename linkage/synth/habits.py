"""The rates at which the synthetic population and its lists show the habits of real ones.

Why a dataclass of rates: linkage is judged on lists made by others, so each habit that
makes linking hard (brothers, a blank IOM district, a ministry that registers a man days
after IOM received him) is a knob a benchmark can turn up, one at a time or all at once,
instead of a constant buried in the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Habits:
    """Rates of the habits of real lists (defaults: what we take to be typical)."""

    # A man of a return batch brings a brother (same family name, father and village);
    # the brother comes home in the same batch this often, else in a batch of his own.
    brother_rate: float = 0.10
    brother_same_batch: float = 0.7
    # A family shares one phone (an IOM phone is often a relative's).
    brother_shares_phone: float = 0.5
    # IOM writes down a relative's phone, not the man's own (a number no other list has).
    iom_relative_phone: float = 0.15
    # Brothers' births lie this many years apart.
    brother_gap_years: tuple[int, int] = (2, 7)
    # IOM leaves the district blank on some rows, sometimes keeping commune or village.
    iom_blank_district: float = 0.2
    iom_blank_keeps_commune: float = 0.4
    iom_blank_keeps_village: float = 0.3
    # MoSVY / DoSVY registers a man some days after IOM received him at the border.
    mosvy_lag_share: float = 0.5
    mosvy_lag_days: int = 10
    # An age at return stated a year off (so the year derived from it is off by one more).
    age_off_by_one: float = 0.4
    # A list writes the name he is called at home (Pov, Touch, Khmao) for his given name;
    # 0 by default (the default lists stay as they were), the robustness bench turns it up.
    house_name: float = 0.0

    @classmethod
    def none(cls) -> Habits:
        """No brothers, no blanks, no lag: the lists as a tidy generator would make them."""
        return cls(
            brother_rate=0.0,
            iom_relative_phone=0.0,
            iom_blank_district=0.0,
            mosvy_lag_share=0.0,
            age_off_by_one=0.0,
        )

    def scaled(self, **rates: float) -> Habits:
        """A copy with some rates set (unknown names are an error, not ignored)."""
        known = {f.name for f in fields(self)}
        unknown = set(rates) - known
        if unknown:
            raise ValueError(f"unknown habit(s): {', '.join(sorted(unknown))}")
        return replace(self, **rates)
