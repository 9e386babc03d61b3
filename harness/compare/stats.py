"""The verdict on one metric from per-trial values of two builds.

Every metric here is lower-is-better. d = candidate - baseline (mean over
trials); its 95% interval comes from a percentile bootstrap over trials. A
difference counts only when the interval excludes zero *and* the mean
difference is larger than the metric's threshold (smaller ones are noise
nobody should gate a release on). "no difference" needs the whole interval
inside +-threshold; anything else is "not enough evidence", said as such.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import mannwhitneyu

BETTER, WORSE, SAME, UNSURE = "better", "worse", "no difference", "not enough evidence"
CONFIDENCE = 0.95
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

    def as_dict(self) -> dict:
        return asdict(self)


def bootstrap_ci(base: list[float], cand: list[float], seed: int = 0,
                 confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> tuple[float, float]:
    """Percentile interval of mean(cand) - mean(base), resampling each side's trials."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(base, float), np.asarray(cand, float)
    ma = a[rng.integers(0, len(a), (resamples, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), (resamples, len(b)))].mean(axis=1)
    d = mb - ma
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(d, [tail, 100 - tail])
    return float(lo), float(hi)


def mann_whitney(base: list[float], cand: list[float]) -> float | None:
    if len(base) < 2 or len(cand) < 2:
        return None
    if len(set(base) | set(cand)) == 1:
        return 1.0  # all equal: no evidence of a difference (scipy would divide by zero)
    method = "exact" if len(base) + len(cand) <= 16 else "auto"
    return float(mannwhitneyu(cand, base, alternative="two-sided", method=method).pvalue)


def decide(base: list[float | None], cand: list[float | None], threshold: float, seed: int = 0) -> Verdict:
    a = [float(x) for x in base if x is not None and not math.isnan(x)]
    b = [float(x) for x in cand if x is not None and not math.isnan(x)]
    if not a or not b:
        return Verdict(UNSURE, _mean(a), _mean(b), None, None, None, threshold, None, len(a), len(b),
                       "no value on " + ("either side" if not a and not b else "the baseline" if not a else "the candidate"))
    diff = _mean(b) - _mean(a)
    p = mann_whitney(a, b)
    if len(a) < 2 or len(b) < 2:
        if abs(diff) <= threshold:
            return Verdict(SAME, _mean(a), _mean(b), diff, None, None, threshold, p, len(a), len(b),
                           f"one trial a side; the difference is within {threshold:g}")
        return Verdict(UNSURE, _mean(a), _mean(b), diff, None, None, threshold, p, len(a), len(b),
                       "one trial a side cannot tell a difference from noise; run --trials 2 or more")
    lo, hi = bootstrap_ci(a, b, seed)
    if lo > 0 and diff > threshold:
        v, why = WORSE, f"higher by {diff:.4g} (interval {lo:.4g}..{hi:.4g} excludes 0; threshold {threshold:g})"
    elif hi < 0 and diff < -threshold:
        v, why = BETTER, f"lower by {-diff:.4g} (interval {lo:.4g}..{hi:.4g} excludes 0; threshold {threshold:g})"
    elif lo >= -threshold and hi <= threshold:
        v, why = SAME, f"interval {lo:.4g}..{hi:.4g} lies within +-{threshold:g}"
    else:
        v, why = UNSURE, (f"interval {lo:.4g}..{hi:.4g} reaches past +-{threshold:g}: "
                          "the trials disagree; run more trials")
    return Verdict(v, _mean(a), _mean(b), diff, lo, hi, threshold, p, len(a), len(b), why)


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None
