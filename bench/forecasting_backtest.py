"""Benchmark: rolling-origin enrolment backtests on a synthetic city, cut-off backtest on HCMC.

Prints one line per figure: MAPE per method, level, measure and horizon with the ratio to
the naive last-value baseline measured in the same run, the method chosen per level, the
run time; then, when the real HCMC history is present, the grade-10 cut-off rolling backtest
(MAE per level model and horizon, the model chosen, each horizon's 80 % band and its
leave-one-school-out coverage) and the MAE against the last-value baseline of 2024
predicted from 2022-2023.

Run: ``.venv/bin/python bench/forecasting_backtest.py [--wards 300] [--years 2008-2024]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from forecasting.backtest import (
    forecast_enrolment,
    interval_coverage,
    residual_quantiles,
    run_backtest,
)
from forecasting.cutoffs import backtest_cutoffs, calibrate_cutoffs
from forecasting.enrolment import EnrolmentData
from forecasting.synthetic import synthetic_city

REPO = Path(__file__).resolve().parents[1]
HCMC = Path(os.environ.get("EDUGIS_HCMC_DATA", REPO.parent / "shared" / "data" / "hcmc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wards", type=int, default=300)
    parser.add_argument("--first-year", type=int, default=2010)
    parser.add_argument("--last-year", type=int, default=2024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    city = synthetic_city(n_wards=args.wards, first_year=args.first_year, last_year=args.last_year,
                          seed=args.seed)
    data = EnrolmentData(city.population, city.births, city.enrolment, city.ward_area_km2)
    print(f"synthetic city: {args.wards} wards, {args.first_year}-{args.last_year}, "
          f"{len(city.population)} population rows, {len(city.enrolment)} enrolment rows")
    backtest_started = time.perf_counter()
    report = run_backtest(data, max_horizon=5)
    backtest_s = time.perf_counter() - backtest_started
    origins = sorted(report.predictions["origin"].unique())
    print(f"origins: {origins[0]}-{origins[-1]} ({len(origins)}), horizons 1-5, methods cohort, "
          "challenger (gradient boosting), naive")
    for line in report.lines():
        print(line)
    mean = report.scores.groupby("method")["mape"].mean()
    for method in mean.index:
        print(f"mean MAPE {method}: {mean[method]:.2f}% ratio to naive {mean[method] / mean['naive']:.3f}")
    print(f"backtest time: {backtest_s:.1f} s")
    # Interval calibration out of sample: quantiles from the early origins, scored on the late.
    middle = origins[len(origins) // 2]
    early = report.predictions[report.predictions["origin"] < middle]
    late = report.predictions[report.predictions["origin"] >= middle]
    calibration = interval_coverage(late, residual_quantiles(early, 0.8))
    for row in calibration.itertuples():
        print(f"80% interval coverage out of sample {row.method} h={row.horizon}: {row.coverage:.3f}")
    forecast_started = time.perf_counter()
    forecast = forecast_enrolment(data, 10, report)
    print(f"10-year forecast with intervals: {len(forecast)} rows in "
          f"{time.perf_counter() - forecast_started:.1f} s")
    print(f"total time (synthetic enrolment): {time.perf_counter() - started:.1f} s")

    path = HCMC / "schools" / "hcmc_grade10_cutoffs_nv1_2022_2024.csv"
    if not path.exists():
        print(f"HCMC cut-offs: skipped, file not found at {path} (set EDUGIS_HCMC_DATA)")
        return
    history = pd.read_csv(path)
    print("HCMC cut-offs, rolling origins 2022-2023, horizons 1-2:")
    for line in calibrate_cutoffs(history).lines():
        print(line)
    result = backtest_cutoffs(history, 2024)
    print(f"HCMC cut-offs 2024 from 2022-2023, {result.n_schools} schools")
    print(f"cut-off MAE model: {result.mae_model:.3f} points")
    print(f"cut-off MAE last value: {result.mae_last_value:.3f} points")
    print(f"cut-off MAE ratio model/last value: {result.ratio_to_baseline:.3f}")
    print(f"cut-off 80% interval coverage: {result.interval_coverage:.3f}")


if __name__ == "__main__":
    main()
