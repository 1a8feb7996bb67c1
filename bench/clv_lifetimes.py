"""The lifetimes side of `trailmap-bench clv`: fits lifetimes' BetaGeoFitter on the CDNOW summary
given as the first argument, RUNS times (second argument), and prints one JSON object with every
run's seconds and the fitted parameters. Needs `pip install lifetimes`."""

import json
import sys
import time

import lifetimes
import pandas as pd
from lifetimes import BetaGeoFitter


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    data = pd.read_csv(path)
    seconds = []
    fitter = None
    for _ in range(runs):
        started = time.perf_counter()
        fitter = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
        seconds.append(time.perf_counter() - started)
    params = {k: float(v) for k, v in fitter.params_.items()}
    print(json.dumps({"lifetimes": lifetimes.__version__, "customers": len(data), "seconds": seconds, "params": params}))


if __name__ == "__main__":
    main()
