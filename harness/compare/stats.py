"""The verdict on one metric from per-trial values of two builds.

Every metric here is lower-is-better. d = candidate - baseline (mean over
trials). Its interval is the hull of a percentile bootstrap over trials and
Student's t interval (spread pooled over both sides). A difference counts only
when the interval excludes zero *and* the mean difference is larger than the
metric's threshold (smaller ones are noise nobody should gate a release on).
"no difference" needs the whole interval inside +-threshold; anything else is
"not enough evidence", said as such, with the trials the spread asks for.

Why both: with 3 trials a side the bootstrap cannot reach past the range of the
data, so two sets that do not overlap (1 in 10 for one build against itself)
always "exclude 0", at any level; the t interval widens with the spread seen
within each side. With many trials the bootstrap guards against skew.

One comparison judges several metrics, so `holm_levels` sets each metric's
level to keep the chance of any false "better"/"worse" over the whole family
at 5% (verdict.judge).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy.special import stdtr, stdtrit
from scipy.stats import mannwhitneyu

BETTER, WORSE, SAME, UNSURE = "better", "worse", "no difference", "not enough evidence"
CONFIDENCE = 0.95
ALPHA = round(1 - CONFIDENCE, 12)  # the family-wise error allowed over one comparison
RESAMPLES = 10_000


@dataclass(frozen=True)
class Verdict:
    verdict: str
    baseline_mean: float | None
    candidate_mean: float | None
    diff: float | None          # candidate - baseline
    ci_low: float | None
    ci_high: float | None
    threshold: float
    p_value: float | None       # two-sided Mann-Whitney U, exact; None below 2 trials a side
    n_baseline: int
    n_candidate: int
    why: str
    confidence: float | None = CONFIDENCE   # the interval's level: 95%, or higher as Holm sets it
    p_interval: float | None = None         # two-sided p of the interval's tests (the larger), what Holm orders by
    trials_needed: int | None = None        # trials a side before the spread lets the interval fit in +-threshold

    def as_dict(self) -> dict:
        return asdict(self)


def _resampled_diffs(base: list[float], cand: list[float], seed: int, resamples: int) -> np.ndarray:
    return _diffs(tuple(map(float, base)), tuple(map(float, cand)), seed, resamples)


@lru_cache(maxsize=256)  # Holm's p-values and then the intervals resample the same trials: draw once
def _diffs(a: tuple, b: tuple, seed: int, resamples: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = np.asarray(a), np.asarray(b)
    ma = x[rng.integers(0, len(x), (resamples, len(x)))].mean(axis=1)
    mb = y[rng.integers(0, len(y), (resamples, len(y)))].mean(axis=1)
    d = mb - ma
    d.flags.writeable = False
    return d


def bootstrap_ci(base: list[float], cand: list[float], seed: int = 0,
                 confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> tuple[float, float]:
    """Percentile interval of mean(cand) - mean(base), resampling each side's trials."""
    d = _resampled_diffs(base, cand, seed, resamples)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(d, [tail, 100 - tail])
    return float(lo), float(hi)


def bootstrap_p(base: list[float], cand: list[float], seed: int = 0, resamples: int = RESAMPLES) -> float:
    """Two-sided: about the smallest 1 - confidence at which the percentile interval excludes 0."""
    d = _resampled_diffs(base, cand, seed, resamples)
    if not d.any():
        return 1.0  # every resample equal: no evidence either way
    tail = min(np.count_nonzero(d <= 0), np.count_nonzero(d >= 0))
    return float(min(1.0, 2 * (tail + 1) / (resamples + 1)))


def holm_levels(pvalues: list[float | None], alpha: float = ALPHA) -> list[float]:
    """Each test's level under Holm's step-down over the family; None (not testable) keeps alpha.

    Holm rather than Benjamini-Hochberg: a release gate cares whether *any* metric
    of a build against itself is called better or worse (family-wise error), and
    Holm holds under any dependence between metrics (the 5xx total and its
    per-code parts move together), which BH's guarantee does not cover.
    """
    tested = [i for i, p in enumerate(pvalues) if p is not None]
    levels = [alpha] * len(pvalues)
    stop = None  # once one test fails, every larger p is judged at that same (failed) level
    for k, i in enumerate(sorted(tested, key=lambda j: pvalues[j])):
        levels[i] = alpha / (len(tested) - k) if stop is None else stop
        if stop is None and pvalues[i] > levels[i]:
            stop = levels[i]
    return levels


def student(base: list[float], cand: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(low, high, p, pooled sd) for mean(cand) - mean(base), Student's t.

    Pooled: for a build against itself, the case whose false alarms are being
    controlled, both sides share one spread exactly; and 2n-2 degrees of
    freedom keep 2 or 3 trials a side usable. (scipy.special's t functions:
    ttest_ind gives the same figures at a hundred times the cost, which
    false-alarm's thousands of comparisons feel.)
    """
    a, b = np.asarray(base, float), np.asarray(cand, float)
    diff = float(b.mean() - a.mean())
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread at all: t is undefined, the difference is what it is
        return diff, diff, 1.0 if diff == 0 else 0.0, 0.0
    df = len(a) + len(b) - 2
    sd = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / df)
    se = sd * math.sqrt(1 / len(a) + 1 / len(b))
    half = float(stdtrit(df, 1 - (1 - confidence) / 2)) * se
    return diff - half, diff + half, float(2 * stdtr(df, -abs(diff) / se)), sd


def trials_needed(n: int, boot_half: float, sd: float, confidence: float, threshold: float,
                  most: int = 10_000) -> int | None:
    """Fewest trials a side whose interval, at this spread, would fit within +-threshold; None: not below `most`.

    The bootstrap half-width shrinks like 1/sqrt(n); the t one also with its quantile.
    """
    if threshold <= 0:
        return None

    def fits(ns: np.ndarray) -> np.ndarray:
        t_half = stdtrit(2 * ns - 2, 1 - (1 - confidence) / 2) * sd * np.sqrt(2 / ns)
        return np.maximum(boot_half * np.sqrt(n / ns), t_half) <= threshold

    # the half-width falls as n grows: a coarse geometric grid finds the bracket, then every n inside it
    grid = np.unique(np.geomspace(n, most, 60).astype(int))
    ok = fits(grid)
    if not ok.any():
        return None
    k = int(ok.argmax())
    if k == 0:
        return int(grid[0])
    ns = np.arange(grid[k - 1] + 1, grid[k] + 1)
    return int(ns[fits(ns).argmax()])


def interval_p(base: list[float], cand: list[float], seed: int = 0, use_t: bool = True) -> float:
    """The p-value that goes with decide()'s interval (what Holm orders the metrics by)."""
    return max(bootstrap_p(base, cand, seed), student(base, cand)[2] if use_t else 0.0)


def mann_whitney(base: list[float], cand: list[float]) -> float | None:
    return _mann_whitney(tuple(base), tuple(cand))


@lru_cache(maxsize=256)  # exact p-values are slow, and false-alarm judges the same trials several ways
def _mann_whitney(base: tuple, cand: tuple) -> float | None:
    if len(base) < 2 or len(cand) < 2:
        return None
    if len(set(base) | set(cand)) == 1:
        return 1.0  # all equal: no evidence of a difference (scipy would divide by zero)
    method = "exact" if len(base) + len(cand) <= 16 else "auto"
    return float(mannwhitneyu(cand, base, alternative="two-sided", method=method).pvalue)


def decide(base: list[float | None], cand: list[float | None], threshold: float, seed: int = 0,
           confidence: float = CONFIDENCE, use_t: bool = True) -> Verdict:
    """use_t=False: the bootstrap interval alone, as the verdict was before Holm (false-alarm measures both)."""
    a = [float(x) for x in base if x is not None and not math.isnan(x)]
    b = [float(x) for x in cand if x is not None and not math.isnan(x)]
    if not a or not b:
        return Verdict(UNSURE, _mean(a), _mean(b), None, None, None, threshold, None, len(a), len(b),
                       "no value on " + ("either side" if not a and not b else "the baseline" if not a else "the candidate"), None)
    diff = _mean(b) - _mean(a)
    p = mann_whitney(a, b)
    if len(a) < 2 or len(b) < 2:
        if abs(diff) <= threshold:
            return Verdict(SAME, _mean(a), _mean(b), diff, None, None, threshold, p, len(a), len(b),
                           f"one trial a side; the difference is within {threshold:g}", None)
        return Verdict(UNSURE, _mean(a), _mean(b), diff, None, None, threshold, p, len(a), len(b),
                       "one trial a side cannot tell a difference from noise; run --trials 2 or more", None)
    lo_b, hi_b = bootstrap_ci(a, b, seed, confidence)
    lo_t, hi_t, p_t, sd = student(a, b, confidence) if use_t else (lo_b, hi_b, 0.0, 0.0)
    lo, hi = min(lo_b, lo_t), max(hi_b, hi_t)
    p_int = max(bootstrap_p(a, b, seed), p_t)  # as interval_p: the hull excludes 0 about when both tests reject
    interval = f"{confidence * 100:.3g}% interval"
    need = None
    if lo > 0 and diff > threshold:
        v, why = WORSE, f"higher by {diff:.4g} ({interval} {lo:.4g}..{hi:.4g} excludes 0; threshold {threshold:g})"
    elif hi < 0 and diff < -threshold:
        v, why = BETTER, f"lower by {-diff:.4g} ({interval} {lo:.4g}..{hi:.4g} excludes 0; threshold {threshold:g})"
    elif lo >= -threshold and hi <= threshold:
        v, why = SAME, f"{interval} {lo:.4g}..{hi:.4g} lies within +-{threshold:g}"
    else:
        v = UNSURE
        n = min(len(a), len(b))
        need = trials_needed(n, (hi_b - lo_b) / 2, sd, confidence, threshold)
        if need is None or need > n:  # even with no true difference, this spread cannot give "no difference" at n
            more = f"at least {need} trials a side" if need else "more trials than anyone runs (or a larger threshold)"
            why = (f"{interval} {lo:.4g}..{hi:.4g} is wider than +-{threshold:g} allows at {n} trials a side: "
                   f"the trials disagree; need {more}")
        else:  # narrow enough, but off centre: a difference near the threshold, not a lack of trials
            need = None
            why = f"{interval} {lo:.4g}..{hi:.4g} reaches past +-{threshold:g}: the trials disagree; run more trials"
    return Verdict(v, _mean(a), _mean(b), diff, lo, hi, threshold, p, len(a), len(b), why, confidence, p_int, need)


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None
