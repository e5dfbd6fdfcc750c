"""A public labelled anomaly benchmark for tests/reference_anomaly.rs.

Usage: python3 anomaly_benchmark.py CACHE_DIR

Data: the Yahoo Webscope S5 (A1 benchmark, real production traffic) series that sktime 1.2.0
ships as `sktime/datasets/data/yahoo/yahoo.csv` (via the TSB-UAD collection): 1,000 hourly
values, `data,label`, 7 points labelled anomalous by Yahoo's editors. The wheel is fetched from
PyPI once (`pip download --no-deps sktime==1.2.0`) into CACHE_DIR and read there; the data is
not redistributed with Vigil.

Reference detector, same family as Vigil's: statsmodels' STL (period 24, its defaults) and a
MAD-scaled robust z of its remainder, flagged where |z| > 4 (Vigil's default threshold). (With
`robust=True` STL folds these spikes into its seasonal component and finds 1 of the 7.)

Prints JSON: source, values, labels (0/1 per point), and the reference's flagged indices.
"""
import glob
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
from statsmodels.tsa.seasonal import STL

WHEEL = "sktime==1.2.0"
MEMBER = "sktime/datasets/data/yahoo/yahoo.csv"


def wheel_path(cache):
    found = glob.glob(os.path.join(cache, "sktime-1.2.0-*.whl"))
    if not found:
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", WHEEL, "-d", cache],
            check=True,
        )
        found = glob.glob(os.path.join(cache, "sktime-1.2.0-*.whl"))
    return found[0]


def main():
    cache = sys.argv[1]
    with zipfile.ZipFile(wheel_path(cache)) as wheel:
        text = wheel.read(MEMBER).decode("utf-8")
    rows = [line.split(",") for line in io.StringIO(text).read().strip().splitlines()[1:]]
    values = np.array([float(r[0]) for r in rows])
    labels = [int(float(r[1])) for r in rows]
    remainder = STL(values, period=24).fit().resid
    median = np.median(remainder)
    mad = np.median(np.abs(remainder - median)) * 1.4826
    z = (remainder - median) / mad
    flagged = [int(i) for i in np.flatnonzero(np.abs(z) > 4.0)]
    print(json.dumps({"source": f"{WHEEL} {MEMBER}", "values": values.tolist(), "labels": labels, "reference_flagged": flagged}))


if __name__ == "__main__":
    main()
