"""Kleinberg's two-state burst model for batched data, written independently of Vigil, for
tests/it/reference_terms.rs.

Usage: terms_reference.py POSTS.csv SCALE GAMMA MIN_COUNT

POSTS.csv has columns `at` (ISO 8601 UTC) and `text`. Posts are grouped by UTC day; a post's words
are its distinct lower-cased runs of letters and digits of 3 characters or more, not only digits,
not a stop word. For each word in at least MIN_COUNT posts: r_t posts with it out of d_t; base rate
p0 = sum r / sum d, burst rate p1 = SCALE * p0 (a word with SCALE * p0 >= 1 cannot burst); the cost of state j at t is
-log binom.pmf(r_t; d_t, p_j) (scipy); entering the burst state costs GAMMA * ln(n); the cheapest
state sequence from the base state by dynamic programming; a burst's weight is the sum over its
periods of cost_0 - cost_1. Prints JSON {word: {"base_rate": p0, "bursts": [[first, last, weight]]}}
for every word with a burst.
"""

import json
import re
import sys

import numpy as np
import pandas as pd
from scipy.stats import binom

STOP_WORDS = set(
    "the and for with this that you your are was were from have has had but not all our out its it's his her she him "
    "they them their what who why how when can will just than then been".split()
)


def words(text):
    out = []
    for token in re.split(r"[\W_]+", text):
        if len(token) < 3 or (token.isascii() and token.isdigit()):
            continue
        word = token.lower()
        if word in STOP_WORDS or word in out:
            continue
        out.append(word)
    return out


def main():
    posts = pd.read_csv(sys.argv[1], keep_default_na=False)
    scale, gamma, min_count = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    day = pd.to_datetime(posts["at"], utc=True).dt.floor("D")
    first = day.min()
    period = ((day - first).dt.days).to_numpy()
    n = int(period.max()) + 1
    d = np.bincount(period, minlength=n).astype(float)
    counts = {}
    for p, text in zip(period, posts["text"]):
        for w in words(text):
            counts.setdefault(w, np.zeros(n))[p] += 1
    result = {}
    for word, r in counts.items():
        if r.sum() < min_count:
            continue
        p0 = r.sum() / d.sum()
        if p0 * scale >= 1:  # cannot burst to SCALE times its rate
            continue
        p1 = min(scale * p0, 0.99999)
        cost = np.stack([-binom.logpmf(r, d, p0), -binom.logpmf(r, d, p1)], axis=1)
        up = gamma * np.log(n)
        total = np.zeros((n, 2))
        back = np.zeros((n, 2), dtype=int)
        total[0] = [cost[0, 0], cost[0, 1] + up]
        for t in range(1, n):
            for j in range(2):
                options = [total[t - 1, i] + (up if j > i else 0.0) for i in range(2)]
                back[t, j] = int(np.argmin(options))
                total[t, j] = min(options) + cost[t, j]
        state = int(np.argmin(total[-1]))
        states = [0] * n
        for t in range(n - 1, -1, -1):
            states[t] = state
            state = back[t, state]
        bursts = []
        t = 0
        while t < n:
            if states[t] == 1:
                start = t
                while t < n and states[t] == 1:
                    t += 1
                bursts.append([start, t - 1, float((cost[start:t, 0] - cost[start:t, 1]).sum())])
            else:
                t += 1
        if bursts:
            result[word] = {"base_rate": float(p0), "bursts": bursts}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
