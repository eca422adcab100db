"""Every habit of the lists, with the rate it happens at (each can be set on the command line).

Why: a test bed is only useful if each kind of variation can be turned up or off to see
what it costs. The defaults are guesses from how such lists are kept, not measurements.
"""

from __future__ import annotations

DEFAULT_RATES: dict[str, float] = {
    # the population
    "brothers": 0.14,  # a family sends two (or three) sons abroad
    "brothers_same_batch": 0.5,  # a brother comes home on the same boat or flight
    "twins": 0.012,  # twin sons: one birth date, two given names
    "namesakes": 0.03,  # another family's son with the same name in the district, same age
    "retrafficked": 0.07,  # a man trafficked again who comes home a second time (15% a third)
    "patronymic": 0.3,  # the son's surname is his father's given name
    "batch_same_district": 0.6,  # men of one batch from one district
    "own_phone": 0.65,  # the man has a phone of his own
    "national_id": 0.35,  # he has an ID card number at all
    "travel_doc": 0.45,  # IOM knows a passport or travel document for this return
    "second_given": 0.04,  # he has a second given name some lists write
    "nickname": 0.04,  # some list calls him by his house name or a short form
    # which lists a return reaches
    "on_iom": 0.85,
    "on_mosvy": 0.6,
    "on_ngo": 0.3,
    "dup_iom": 0.015,  # registered twice on IOM's list (two case numbers)
    "dup_mosvy": 0.02,  # two rows of one ministry list
    # names
    "respell": 0.55,  # a list writes a name in its own romanisation
    "respell_per_rule": 0.12,  # how many habits fire once it does
    "table_variant": 0.3,  # a known variant spelling from the research tables
    "iom_family_first": 0.35,  # IOM writes FAMILY GIVEN (its usual order is GIVEN FAMILY)
    "ngo_given_first": 0.15,  # an NGO writes GIVEN FAMILY (its usual order is FAMILY GIVEN)
    "mosvy_columns_swapped": 0.025,  # given name typed in the family-name column and back
    "latin_typo": 0.03,
    "khmer_typo": 0.07,  # per Khmer name written
    "split_compound": 0.4,  # a compound given name written in two words or hyphenated
    "use_nickname": 0.5,  # of men with a nickname, the share of lists that use it
    "use_second_given": 0.5,
    # birth
    "iom_dob_full": 0.4,
    "iom_dob_year": 0.2,  # 01/01/YYYY or the year alone
    "iom_age_only": 0.37,  # the rest: blank
    "age_off_by_one": 0.3,  # an age estimated at interview, a year off
    "dob_wrong_year": 0.03,
    "date_swapped": 0.04,  # day and month swapped (where both can be months)
    # a full birth date whose year is typed with two neighbouring digits swapped (1987 ->
    # 1978) or one digit a key off (1986, 1997); 0 by default, try --rate year_typed=0.05
    "year_typed": 0.0,
    "excel_serial": 0.02,  # an NGO date cell exported as its Excel serial number
    "buddhist_era": 0.06,  # a ministry date with a Buddhist-era year
    "mosvy_dob": 0.55,  # the ministry has a birth date; else the age
    "mosvy_age_too": 0.6,
    "khmer_digits": 0.5,  # a ministry sheet typed in Khmer digits
    "mosvy_date_cells": 0.3,  # a ministry sheet whose dates are real Excel date cells
    "ngo_dob": 0.7,
    # home
    "iom_district_blank": 0.2,
    "blank_keeps_commune": 0.5,
    "blank_keeps_village": 0.3,
    "mosvy_district_blank": 0.04,
    "district_variant": 0.3,
    "province_variant": 0.3,
    "old_units": 0.5,  # a Tboung Khmum district written under Kampong Cham
    "ngo_moved": 0.08,  # the NGO has his current address, not the village he left
    # IOM's reception desk writes the province he crossed into (Banteay Meanchey for Poipet,
    # Phnom Penh for the airport) as his home; 0 by default, try --rate iom_home_is_entry=0.05
    "iom_home_is_entry": 0.0,
    # a list writes another village of his commune (picked from the commune's list by the
    # clerk); 0 by default, try --rate village_slip=0.05
    "village_slip": 0.0,
    # contact and return
    "iom_phone": 0.7,
    "mosvy_phone": 0.45,
    "ngo_phone": 0.75,
    "relative_phone": 0.3,  # the number given is the family's, not his own
    # the cell gives his own number and the family's together ("012 345 678 / 097 ..."), as
    # men with two SIMs or a relative's phone do; 0 by default, try --rate two_phones=0.3
    "two_phones": 0.0,
    "phone_changed": 0.3,  # a man back a second time has another number
    # a clerk mistypes the number (a digit another, two neighbours swapped); 0 by default
    "phone_typo": 0.0,
    "mosvy_id": 0.5,  # of men with an ID card, the share the ministry writes down
    "mosvy_same_day": 0.35,  # the ministry registers him the day IOM received him; else 1-10 days later
    # the most days after IOM a ministry (or provincial DoSVY) registration comes; a provincial
    # office that registers weeks later is a habit to try with --rate mosvy_lag_max=30
    "mosvy_lag_max": 10,
    "return_date_typo": 0.01,
    # referrals as other desks write them (indep/referrals.py): an organisation in other words
    # or Khmer, a date in another format or a day or two before the return, 'N/A' or 'ទេ' for
    # none, a case status typed another way, a ministry remark of a referral or of none yet;
    # 0 by default, try --rate referral_variant=0.3
    "referral_variant": 0.0,
    # an NGO takes him on late: 4 months to 3 years after the return (he came to its office
    # himself, or a social worker's visit found him), a referral that still follows that
    # return; 0 by default, try --rate ngo_late_intake=0.1
    "ngo_late_intake": 0.0,
    # referrals in words referral_variant does not use (indep/referrals.py), each 0 by default:
    # an NGO case closed by a referral names the organisation it went to ('Referred to LSCW',
    # 'Transferred to Hagar', បញ្ជូនទៅអង្គការ...), of the Closed-Referred cases
    "referral_other_ngo": 0.0,
    # a status worded out: Open, Ongoing, ករណីសកម្ម, កំពុងតាមដាន, បិទករណី, 'Closed - reintegrated'
    "status_written_out": 0.0,
    # IOM's referred_to of a return with no referral names one only proposed or refused
    # ('Pending - Hagar', 'Refused referral', រង់ចាំ...) or where he went home to ('Family')
    "referral_not_yet": 0.0,
    # a ministry remark on a row with no referral: sent (back) to his family (បញ្ជូនទៅគ្រួសារវិញ)
    "remark_sent_home": 0.0,
    # IOM's row of a later return with no referral carries his earlier return's organisation
    # and referral date (the desk copied his earlier case): no referral of this return
    "iom_referral_carried": 0.0,
}


def parse_rates(pairs: list[str]) -> dict[str, float]:
    """name=value pairs over the defaults; an unknown name is an error, not a silent no-op."""
    rates = dict(DEFAULT_RATES)
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in rates:
            raise SystemExit(f"unknown rate {name!r}; known: {', '.join(sorted(rates))}")
        rates[name] = float(value)
    return rates
