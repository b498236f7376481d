"""Shared helpers for the synthetic data generator: day arithmetic, working days, codes, identifiers.

Dates are held as int64 day numbers (days since 1970-01-01) while the timelines are built; `NA`
(a day far in the future) stands for "no date" and for an end that lies beyond every census. They
become datetime64[ns] only when the canonical tables are made.
"""

from __future__ import annotations

import numpy as np

NA = 10**7  # "no date" / still open: later than any census (about the year 29,000)
INT = np.int64


def day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def to_dt64(days: np.ndarray) -> np.ndarray:
    """Day numbers -> datetime64[ns], NaT where the value is NA (or beyond)."""
    days = np.asarray(days, dtype=INT)
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[days >= NA] = np.datetime64("NaT")
    return out


def split_ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day numbers -> (year, month, day), integer arithmetic (proleptic Gregorian, H. Hinnant)."""
    z = np.asarray(days, dtype=INT) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return np.where(m <= 2, y + 1, y), m, d


def ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(year, month, day) -> day numbers, integer arithmetic."""
    y = np.asarray(y, dtype=INT)
    m = np.asarray(m, dtype=INT)
    d = np.asarray(d, dtype=INT)
    y = np.where(m <= 2, y - 1, y)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _month_len(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    return _MONTH_DAYS[m] + ((m == 2) & leap)


def add_years(days: np.ndarray, k: int | np.ndarray) -> np.ndarray:
    """The same calendar date k years on; 29 February becomes 28 February in a non-leap year."""
    days = np.asarray(days, dtype=INT)
    y, m, d = split_ymd(days)
    ny = y + k
    d = np.minimum(d, _month_len(ny, m))
    out = ymd(ny, m, d)
    return np.where(days >= NA, NA, out)


def add_months(days: np.ndarray, k: int | np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype=INT)
    y, m, d = split_ymd(days)
    total = (y * 12 + (m - 1)) + k
    ny, nm = total // 12, total % 12 + 1
    d = np.minimum(d, _month_len(ny, nm))
    return np.where(days >= NA, NA, ymd(ny, nm, d))


# ------------------------------------------------------------------------------ working days
class Calendar:
    """Working days in England: Monday to Friday less bank holidays (the `holidays` package)."""

    def __init__(self, first_year: int, last_year: int) -> None:
        import holidays

        hol = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
        self.holidays = np.array(sorted(hol.keys()), dtype="datetime64[D]")
        self.first = day(f"{first_year}-01-01")
        self.last = day(f"{last_year}-12-31")

    def _offset(self, days: np.ndarray, n: int | np.ndarray, roll: str) -> np.ndarray:
        days = np.asarray(days, dtype=INT)
        # dates outside the calendar's years (or NA) pass through unchanged
        ok = (days >= self.first + 30) & (days <= self.last - 60)
        out = days.copy()
        if ok.any():
            d = days[ok].astype("datetime64[D]")
            nn = n[ok] if isinstance(n, np.ndarray) else n
            out[ok] = np.busday_offset(d, nn, roll=roll, holidays=self.holidays).astype(INT)
        return out

    def on_or_after(self, days: np.ndarray) -> np.ndarray:
        return self._offset(days, 0, "forward")

    def on_or_before(self, days: np.ndarray) -> np.ndarray:
        return self._offset(days, 0, "backward")

    def after(self, days: np.ndarray, n: int | np.ndarray) -> np.ndarray:
        """The n-th working day after each date (n >= 1); the date itself never counts."""
        return self._offset(days, n, "backward")

    def before(self, days: np.ndarray, n: int | np.ndarray) -> np.ndarray:
        """The n-th working day before each date (n >= 1); the date itself never counts."""
        return self._offset(days, -n, "forward")


# ------------------------------------------------------------------------------ drawing
def draw(rng: np.random.Generator, codes: list[str] | np.ndarray, probs: list[float] | np.ndarray,
         n: int) -> np.ndarray:
    """n codes drawn with the given (unnormalised) weights, as an object array of str."""
    p = np.asarray(probs, dtype=float)
    idx = rng.choice(len(p), size=n, p=p / p.sum())
    return np.asarray(codes, dtype=object)[idx]


def draw_idx(rng: np.random.Generator, probs: list[float] | np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def uniform_int(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int,
                n: int | None = None) -> np.ndarray:
    """Integers uniform on [lo, hi] (inclusive); hi < lo gives lo."""
    lo = np.asarray(lo, dtype=INT)
    hi = np.asarray(hi, dtype=INT)
    size = n if n is not None else np.broadcast(lo, hi).shape
    span = np.maximum(hi - lo, 0) + 1
    return lo + (rng.random(size) * span).astype(INT)


def lognormal_days(rng: np.random.Generator, median: float, sigma: float, n: int,
                   lo: float = 1, hi: float = 1e6) -> np.ndarray:
    return np.clip(np.exp(rng.normal(np.log(median), sigma, n)), lo, hi).astype(INT)


# ------------------------------------------------------------------------------ identifiers
_UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
# LA numbers accepted by CIN rule 1530 (characters 2-4 of a UPN); a few real ones, since the
# school that allocated the UPN may be anywhere.
UPN_LA_CODES = np.array(["201", "202", "203", "204", "205", "206", "207", "208", "209", "210", "211",
                         "301", "302", "303", "304", "305", "306", "307", "308", "309", "310",
                         "800", "801", "802", "803", "805", "806", "807", "808", "810", "811"])


def upn_check_letter(body12: np.ndarray) -> np.ndarray:
    """DfE UPN check letter for 12-character bodies (characters 2-13, all digits)."""
    digits = np.frombuffer("".join(body12).encode("ascii"), dtype=np.uint8).reshape(-1, 12) - 48
    weights = np.arange(2, 14, dtype=np.int64)
    total = (digits.astype(np.int64) * weights).sum(axis=1)
    return _UPN_LETTERS[total % 23]


def make_upns(rng: np.random.Generator, n: int, alloc_year: np.ndarray) -> np.ndarray:
    """Unique, valid permanent UPNs: check letter, LA number, 2-digit year, serial, digit."""
    if n == 0:
        return np.array([], dtype=object)
    serial = rng.permutation(np.arange(n, dtype=INT) * 7 + rng.integers(0, 7)) % 10**7
    la = UPN_LA_CODES[rng.integers(0, len(UPN_LA_CODES), n)]
    yy = np.asarray(alloc_year, dtype=INT) % 100
    body = np.char.add(np.char.add(la.astype("U3"), np.char.zfill(yy.astype("U2"), 2)),
                       np.char.zfill(serial.astype("U7"), 7))
    letters = upn_check_letter(body.tolist())
    return np.char.add(letters.astype("U1"), body).astype(object)


_INWARD = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # letters used in inward codes (no C I K M O V)


def postcodes(keys: np.ndarray, area: str, districts: tuple[int, int]) -> np.ndarray:
    """Deterministic fictional postcodes for integer keys: area + district, space, digit + 2 letters.

    The areas used ("ZZ" at home and nearby, "ZY" further away) are not real postcode areas, so no
    generated postcode can be a real address; the districts avoid ZZ99, the NHS pseudo-postcode.
    """
    keys = np.asarray(keys, dtype=INT)
    lo, hi = districts
    dist = lo + (keys * 2654435761 % (hi - lo + 1))
    h = (keys * 40503 + 12345) % (10 * 20 * 20)
    digit = h // 400
    l1 = _INWARD[(h // 20) % 20]
    l2 = _INWARD[h % 20]
    outward = np.char.add(area, dist.astype("U2"))
    inward = np.char.add(np.char.add(digit.astype("U1"), l1.astype("U1")), l2.astype("U1"))
    out = np.char.add(np.char.add(outward, " "), inward)
    return out.astype(object)


def child_ids(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n unique identifiers "SY" + 8 digits (alphanumeric, 10 characters: the 903 CHILD limit),
    and their numbers (which sort in the same order as the identifiers)."""
    if n == 0:
        return np.array([], dtype=object), np.array([], dtype=INT)
    gaps = rng.integers(1, max(2, min(50, 9 * 10**7 // (n + 1))), n)
    nums = rng.permutation(10**7 + np.cumsum(gaps))
    return np.char.add("SY", nums.astype("U8")).astype(object), nums.astype(INT)
