"""Blocking: the passes whose union proposes candidate pairs.

Why several passes: each misses what another catches. Each name key is paired with the
other name's initial, so the order a list wrote them in does not matter; a surname spelled
apart (Keo/Kao/Kev) still meets through the given name plus birth year or district, a
misspelt given name through the surname, a mistyped district through the commune, a
replaced given name through the surname and the birth date; a record with one name probes
everyone's keys; phone, ID or document, father's name and the return (date, district,
initials) catch the rest. A name block grown past a few dozen records (Sok, born 1990, given name D, at a
million records) is split by province (by commune for the district pass), so candidate
pairs stay near-linear in the number of records; blocks larger than a cap even so are
skipped and counted. Whole-name blocks are not used: at scale they hold thousands of
namesakes and found no pair the other passes miss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.seal.blind import blind_hash

# pass name -> the PersonRecord columns holding its keys. A pass with two columns pools
# them: a family-name key of one record meets the given-name key of another, so records
# whose list swapped the name order still meet.
PASSES: dict[str, tuple[str, ...]] = {
    "name_token_year": ("k_fam_year", "k_giv_year"),  # key + birth year + other initial
    "name_token_district": ("k_fam_district", "k_giv_district"),  # key + district + other initial
    # the same with the commune, for lists whose district (a postcode, say) is typed apart
    # from the commune and mistyped; on gazetteer codes a commune lies in its district, so
    # this finds nothing the district pass misses
    "name_token_commune": ("k_fam_commune", "k_giv_commune"),
    "phone": ("k_phone",),
    "id_or_document": ("k_id",),
    "father_district": ("k_father",),
    "return_district": ("k_return_fam", "k_return_giv"),
    # both names misspelt past their keys; the commune too, for lists whose district
    # (a postcode, say) is mistyped where the finer place is right
    "birth_date_place": ("k_dob_district", "k_dob_commune"),
    # a given name replaced or misspelt past its key and initial, the place mistyped: the
    # full birth date (known to the day) with either name key
    "birth_date_name": ("k_dob_fam", "k_dob_giv"),
    # no district needed (a fifth of IOM rows leave it blank): both name keys in either
    # order with the province, and a birth year within two (an age at return is a year
    # off, and the year made from it one more) or a return within two weeks (the ministry
    # registers a man days after IOM received him). Two overlapping buckets per record.
    "names_province_birth": ("k_names_birth0", "k_names_birth1"),
    "names_province_return": ("k_names_return0", "k_names_return1"),
}
# Asymmetric passes: records with only one name (the list gave one, or the split failed)
# probe the name keys of everyone, by birth year. Few records probe, so blocks stay small.
PROBE_PASSES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "single_name_year": (("k_one_year",), ("k_fam_year_any", "k_giv_year_any")),
}
KEY_COLUMNS = [c for cols in PASSES.values() for c in cols] + [
    c for probe, build in PROBE_PASSES.values() for c in (*probe, *build)
]
# A block of a pass named here that holds more records than REFINE_ABOVE is split by the
# frame column's value (hashed into key column "r_<column>"): at a million records, "Sok,
# born 1990, given name D" holds hundreds of men across the country; within one province
# it holds a few. Small blocks stay whole, so a man who moved still meets himself wherever
# names are rarer; the cut depends only on a block's own size, which the store's index
# gives, so linking a delivery splits a block as a full rebuild does (linker._refined_lookup).
REFINE: dict[str, str] = {"name_token_year": "province", "name_token_district": "commune"}
REFINE_ABOVE = 20
# Key columns kept per record in the store: the passes' keys and the places that split.
STORED_KEY_COLUMNS = KEY_COLUMNS + [f"r_{c}" for c in sorted(set(REFINE.values()))]

DEFAULT_MAX_BLOCK = 400
# Bump when a key's definition changes: stored keys are then recomputed before linking.
KEY_VERSION = 10
# Width of the buckets of the tolerant passes: two records whose values lie within one
# width always share a bucket key (each record has its bucket and the next).
BIRTH_BUCKET_YEARS = 2
RETURN_BUCKET_DAYS = 14


# Keys are stored hashed: blocking needs only equality, and the store's index then holds
# no phone, ID or name in clear. 64-bit hashes: collisions only add a candidate pair.
_MIX = np.uint64(0x100000001B3)


def _part(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A key part: the 64-bit hash of each value (each distinct value hashed once), and
    where it is missing."""
    text = values.astype("string")
    missing = text.isna().to_numpy()
    hashed = blind_hash(text.fillna("").to_numpy(dtype=object))
    return hashed, missing


def _key(*parts: tuple[np.ndarray, np.ndarray]) -> pd.Series:
    """Parts combined in order into one hashed key; missing when any part is missing."""
    with np.errstate(over="ignore"):
        h = np.zeros(len(parts[0][0]), dtype=np.uint64)
        missing = np.zeros(len(h), dtype=bool)
        for hashed, gone in parts:
            h = (h * _MIX) ^ hashed
            missing |= gone
        h ^= h >> np.uint64(33)  # final avalanche (murmur3's)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    return pd.Series(h.view(np.int64), dtype="Int64").mask(missing)


def block_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """One hashed key column per pass column (pd.NA where the record has nothing for it)."""
    fam_s, giv_s = frame["fam_key"].astype("string"), frame["giv_key"].astype("string")
    # initials, with every vowel one class: Eak/Ak, Ouch/Uch differ only there
    fam_i = _part(fam_s.str[:1].str.replace(r"[AEIOUY]", "*", regex=True))
    giv_i = _part(giv_s.str[:1].str.replace(r"[AEIOUY]", "*", regex=True))
    fam, giv, year = _part(fam_s), _part(giv_s), _part(frame["birth_year"].astype("string"))
    district = _part(frame["district"])
    commune = _part(frame["commune"])
    dob = _part(frame["birth_date"].dt.strftime("%Y-%m-%d"))
    returned = _part(frame["return_date"].dt.strftime("%Y-%m-%d"))
    ident = ("N" + frame["national_id"].astype("string")).fillna("D" + frame["travel_doc"].astype("string"))
    one_name = fam_s.isna().to_numpy() | giv_s.isna().to_numpy()
    keys = {
        # one name key, with the other name's initial, and birth year or district: a
        # misspelt surname still meets through the given name, and the reverse
        "k_fam_year": _key(fam, year, giv_i),
        "k_giv_year": _key(giv, year, fam_i),
        "k_one_year": _key(_part(fam_s.fillna(giv_s)), year).mask(~one_name),
        "k_fam_year_any": _key(fam, year),
        "k_giv_year_any": _key(giv, year),
        "k_fam_district": _key(fam, district, giv_i),
        "k_giv_district": _key(giv, district, fam_i),
        "k_fam_commune": _key(fam, commune, giv_i),
        "k_giv_commune": _key(giv, commune, fam_i),
        "k_phone": _key(_part(frame["phone"])),
        "k_id": _key(_part(ident)),
        "k_father": _key(_part(frame["father_key"]), district),
        "k_dob_district": _key(dob, district),
        "k_dob_commune": _key(dob, commune),
        "k_dob_fam": _key(dob, fam),
        "k_dob_giv": _key(dob, giv),
        # a return batch from one district, both initials (either order)
        "k_return_fam": _key(returned, district, fam_i, giv_i),
        "k_return_giv": _key(returned, district, giv_i, fam_i),
    }
    # both name keys in either order: the lower and the higher of the two
    low = _part(fam_s.where(fam_s <= giv_s, giv_s))
    high = _part(giv_s.where(fam_s <= giv_s, fam_s))
    province = _part(frame["province"])
    years = pd.to_numeric(frame["birth_year"], errors="coerce") // BIRTH_BUCKET_YEARS
    days = (frame["return_date"] - pd.Timestamp("1970-01-01")).dt.days // RETURN_BUCKET_DAYS
    for name, bucket in (("birth", years), ("return", days)):
        for shift in (0, 1):
            part = _part((bucket + shift).astype("Int64").astype("string"))
            keys[f"k_names_{name}{shift}"] = _key(low, high, province, part)
    for column in set(REFINE.values()):
        keys[f"r_{column}"] = _key(_part(frame[column]))
    # .array keeps the exact 64-bit keys: to_numpy() of an Int64 column holding a missing
    # value gives float64, whose 53-bit mantissa rounds the keys, so a delivery whose column
    # had no blank got other keys than the store for the same record (and met no one).
    return pd.DataFrame({k: v.array for k, v in keys.items()}, index=frame.index)


@dataclass
class BlockingStats:
    """What each pass contributed; shown to users and used for blocking recall."""

    pairs_by_pass: dict[str, int] = field(default_factory=dict)
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    skipped_records: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    # pairs of split blocks that the split did not make: nearly all two different men, so
    # the model counts them when it fits the share of matches among candidates
    refined_away: int = 0
    # for each candidate pair, a bit per pass that proposed it (bit i: i-th pass run)
    pass_mask: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    pass_bits: dict[str, int] = field(default_factory=dict)

    def found_by(self, *passes: str) -> np.ndarray:
        """Which candidate pairs any of these passes proposed."""
        bits = 0
        for p in passes:
            bits |= self.pass_bits.get(p, 0)
        return (self.pass_mask & bits) != 0


# Pairs made at once within blocks: bounds the transient arrays (about 50 bytes a pair).
_PAIR_CHUNK = 5_000_000
_NO_KEY = np.iinfo(np.int64).min


def _key_positions(keys: pd.DataFrame, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(key, position) of every record's keys in these columns, distinct, sorted by key."""
    ks, ps = [], []
    for c in columns:
        k = keys[c].to_numpy(dtype=np.int64, na_value=_NO_KEY)
        given = k != _NO_KEY
        ks.append(k[given])
        ps.append(np.flatnonzero(given))
    key, pos = np.concatenate(ks), np.concatenate(ps)
    if len(key) == 0:
        return key, pos
    order = np.lexsort((pos, key))
    key, pos = key[order], pos[order]
    dup = np.r_[False, (key[1:] == key[:-1]) & (pos[1:] == pos[:-1])]
    return key[~dup], pos[~dup]


def _blocks(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and size of each run of one key in sorted keys."""
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return starts, np.diff(np.r_[starts, len(key)])


def _refined(
    key: np.ndarray, pos: np.ndarray, by: np.ndarray, above: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Keys of blocks over `above` records mixed with each record's `by` value (records
    without one form their own part), sorted again by key; and how many pairs fewer."""
    _starts, sizes = _blocks(key)
    big = np.repeat(sizes > above, sizes)
    if not big.any():
        return key, pos, 0
    before = int((sizes * (sizes - 1) // 2).sum())
    with np.errstate(over="ignore"):
        mixed = (key[big].view(np.uint64) * _MIX) ^ by[pos[big]].view(np.uint64)
    key = key.copy()
    key[big] = mixed.view(np.int64)
    order = np.lexsort((pos, key))
    key, pos = key[order], pos[order]
    _starts, sizes = _blocks(key)
    return key, pos, before - int((sizes * (sizes - 1) // 2).sum())


def _pass_pairs(
    keys: pd.DataFrame,
    columns: tuple[str, ...],
    is_new: np.ndarray,
    max_block: int,
    refine: str | None = None,
) -> tuple[np.ndarray, int, int, int]:
    """Codes (left * n + right, left < right) of position pairs sharing a key, at least one
    side new; blocks larger than max_block are skipped and counted (blocks, records); and
    the pairs that splitting large blocks by `refine` did not make."""
    n = len(keys)
    key, pos = _key_positions(keys, columns)
    if len(key) == 0:
        return np.empty(0, np.int64), 0, 0, 0
    away = 0
    if refine is not None:
        by = keys[f"r_{refine}"].to_numpy(dtype=np.int64, na_value=_NO_KEY)
        key, pos, away = _refined(key, pos, by, REFINE_ABOVE)
    starts, sizes = _blocks(key)
    too_big = sizes > max_block
    skipped_records = len(_distinct(pos[np.repeat(too_big, sizes)]))
    with_new = np.add.reduceat(is_new[pos].astype(np.int64), starts) > 0
    kept = ~too_big & (sizes > 1) & with_new
    b_start, b_size = starts[kept], sizes[kept]
    b_pairs = b_size * (b_size - 1) // 2
    out = []
    first = 0
    while first < len(b_start):  # blocks in chunks of about _PAIR_CHUNK pairs
        last = first + max(1, int(np.searchsorted(np.cumsum(b_pairs[first:]), _PAIR_CHUNK)))
        out.append(_pairs_in_blocks(pos, b_start[first:last], b_size[first:last], is_new, n))
        first = last
    codes = np.concatenate(out) if out else np.empty(0, np.int64)
    return codes, int(too_big.sum()), skipped_records, away


def _pairs_in_blocks(
    pos: np.ndarray, start: np.ndarray, size: np.ndarray, is_new: np.ndarray, n: int
) -> np.ndarray:
    """Every pair within each block (rows start..start+size of pos), as codes."""
    within = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)  # index in block
    element = np.repeat(start, size) + within
    after = np.repeat(size, size) - within - 1  # partners after each element
    li = np.repeat(element, after)
    ri = li + 1 + (np.arange(after.sum()) - np.repeat(np.cumsum(after) - after, after))
    a, b = pos[li], pos[ri]
    left, right = np.minimum(a, b), np.maximum(a, b)
    keep = is_new[left] | is_new[right]
    return left[keep] * n + right[keep]


def _long(keys: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    parts = [pd.DataFrame({"key": keys[c].to_numpy(), "pos": np.arange(len(keys))}) for c in columns]
    return pd.concat(parts, ignore_index=True).dropna(subset=["key"]).drop_duplicates()


def _probe_pairs(
    keys: pd.DataFrame, probe: tuple[str, ...], build: tuple[str, ...], is_new: np.ndarray, max_block: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of a probing record with every record sharing its key on the build side."""
    p, b = _long(keys, probe), _long(keys, build)
    if p.empty or b.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    sizes = b.groupby("key", sort=False)["pos"].transform("size")
    skipped = int(b.loc[sizes > max_block, "key"].nunique())
    b = b[sizes <= max_block]
    m = p.merge(b, on="key", suffixes=("_p", "_b"))
    a, c = m["pos_p"].to_numpy(np.int64), m["pos_b"].to_numpy(np.int64)
    left, right = np.minimum(a, c), np.maximum(a, c)
    keep = (left != right) & (is_new[left] | is_new[right])
    return left[keep], right[keep], skipped


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. np.unique hashes wide int64 ranges, which is ~50 times slower."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def candidate_pairs(
    keys: pd.DataFrame,
    is_new: np.ndarray | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
    passes: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, BlockingStats]:
    """Union of the passes (default: all) as position arrays (left < right)."""
    n = len(keys)
    if is_new is None:
        is_new = np.ones(n, dtype=bool)
    stats = BlockingStats()
    codes = []
    for name, cols in PASSES.items():
        if passes is not None and name not in passes:
            continue
        pass_codes, sb, sr, away = _pass_pairs(keys, cols, is_new, max_block, REFINE.get(name))
        stats.refined_away += away
        stats.pairs_by_pass[name] = len(pass_codes)
        stats.skipped_blocks[name] = sb
        stats.skipped_records[name] = sr
        codes.append(pass_codes)
    for name, (probe, build) in PROBE_PASSES.items():
        if passes is not None and name not in passes:
            continue
        left, right, sb = _probe_pairs(keys, probe, build, is_new, max_block)
        stats.pairs_by_pass[name] = len(left)
        stats.skipped_blocks[name] = sb
        stats.skipped_records[name] = 0
        codes.append(left * n + right)
    all_codes = _distinct(np.concatenate(codes)) if codes else np.empty(0, np.int64)
    stats.candidate_pairs = len(all_codes)
    stats.pass_mask = np.zeros(len(all_codes), dtype=np.int32)
    for bit, (name, pass_codes) in enumerate(zip(stats.pairs_by_pass, codes, strict=True)):
        stats.pass_bits[name] = 1 << bit
        stats.pass_mask[np.searchsorted(all_codes, pass_codes)] |= 1 << bit
    return all_codes // n, all_codes % n, stats
