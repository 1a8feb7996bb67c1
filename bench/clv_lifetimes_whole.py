"""The lifetimes side of `trailmap-bench clv`'s whole-process comparison: what `trailmap clv
--model bgnbd` does, from a transactions CSV (customer_id, order_id, time, total) to every
customer's value, in one Python process. It reads the file, summarises it per customer by UTC day
in weeks (`summary_data_from_transaction_data`, observation end = the end of the day of the last
order, as Trailmap's default), fits BG/NBD (`BetaGeoFitter`) and Gamma-Gamma (`GammaGammaFitter`,
on the repeat buyers), predicts each customer's purchases over 52 weeks, P(alive) and value over
52 weeks at 1% a week, and writes the customers' values as CSV to the second argument. The time of
the whole process is measured outside, by the caller; the fitted parameters are printed as JSON.
Needs `pip install lifetimes`."""

import json
import sys

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data


def main():
    path, out = sys.argv[1], sys.argv[2]
    orders = pd.read_csv(path)
    orders["time"] = pd.to_datetime(orders["time"], utc=True).dt.tz_localize(None)
    # Trailmap's "now" by default: the end of the day of the last order.
    last_day = orders["time"].max().normalize()
    summary = summary_data_from_transaction_data(
        orders, "customer_id", "time", monetary_value_col="total", observation_period_end=last_day, freq="D", freq_multiplier=1
    )
    for column in ("recency", "T"):
        summary[column] = summary[column] / 7.0
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    horizon, discount = 52, 0.01
    summary["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        horizon, summary["frequency"], summary["recency"], summary["T"]
    )
    summary["probability_alive"] = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    spend = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
    # Value over the horizon week by week, discounted per week, as Trailmap's value rule.
    value = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for k in range(1, horizon + 1):
        cumulative = bgf.conditional_expected_number_of_purchases_up_to_time(
            k, summary["frequency"], summary["recency"], summary["T"]
        ).to_numpy()
        value += (cumulative - previous) * spend.to_numpy() / (1.0 + discount) ** k
        previous = cumulative
    summary["predicted_value"] = value
    summary.to_csv(out)
    params = {k: float(v) for k, v in bgf.params_.items()}
    params.update({"gg_" + k: float(v) for k, v in ggf.params_.items()})
    print(json.dumps({"customers": len(summary), "orders": len(orders), "params": params}))


if __name__ == "__main__":
    main()
