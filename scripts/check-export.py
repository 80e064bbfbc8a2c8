#!/usr/bin/env python3
"""Checks a campaign export written by `slotsim run FILE --out DIR`.

    python3 scripts/check-export.py DIR            # DIR holds campaign.csv, summary.csv, manifest.json
    python3 scripts/check-export.py DIR --days 60  # the scenario's campaign.days (else: the last day in the file)

Checks:
- the three files exist; `campaign.csv` has the columns
  replication,day,district,age_band,access,channel,metric,value and `summary.csv` the
  columns metric,mean,ci95_low,ci95_high,replications;
- every value is a number; counts (every `campaign.csv` value) are whole and not
  negative; replications run 0 .. R-1 with R from the manifest, and a row written for one
  replication is written for all of them (a row whose value is 0 in every replication is
  left out, so a missing row is a 0);
- doses are conserved per replication and district: the doses delivered over all days
  equal doses given + doses wasted + the stock at the end of the last day, and day by
  day stock_end = previous stock_end + delivered - given - wasted;
- doses given equal dose-1 plus dose-2 vaccinations, per replication, district and day;
- each total in `summary.csv` is the mean over replications of the `campaign.csv` total,
  and ci95_low <= mean <= ci95_high.
Then prints vaccinations (both doses, mean per replication) by access group and channel.

Exit status: 0 if every check passes, 1 if one fails (each failure is printed), 2 if the
directory or pandas is missing. pandas lives in the benchmark venv:
    Benchmarks/peers/.venv/bin/python scripts/check-export.py DIR
or: python3 -m venv /tmp/exportvenv && /tmp/exportvenv/bin/pip install pandas
"""

import argparse
import json
import pathlib
import sys

try:
    import pandas as pd
except ImportError:
    print("check-export: pandas is not installed; run with a Python that has it, e.g.", file=sys.stderr)
    print("    Benchmarks/peers/.venv/bin/python scripts/check-export.py DIR", file=sys.stderr)
    print("or: python3 -m venv /tmp/exportvenv && /tmp/exportvenv/bin/pip install pandas", file=sys.stderr)
    sys.exit(2)

CAMPAIGN_COLUMNS = ["replication", "day", "district", "age_band", "access", "channel", "metric", "value"]
SUMMARY_COLUMNS = ["metric", "mean", "ci95_low", "ci95_high", "replications"]
KEY = ["day", "district", "age_band", "access", "channel", "metric"]
FAILURES_SHOWN = 10


class Checker:
    def __init__(self):
        self.failures = 0

    def fail(self, message, examples=None):
        self.failures += 1
        print(f"FAIL {message}")
        if examples is not None and len(examples):
            print(examples.head(FAILURES_SHOWN).to_string(index=False))
            if len(examples) > FAILURES_SHOWN:
                print(f"... and {len(examples) - FAILURES_SHOWN} more")

    def ok(self, message):
        print(f"ok   {message}")


def load(directory, check):
    paths = {name: directory / name for name in ("campaign.csv", "summary.csv", "manifest.json")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        print("check-export: missing " + ", ".join(missing), file=sys.stderr)
        sys.exit(2)
    manifest = json.loads(paths["manifest.json"].read_text())
    # Text columns stay text ("all", "18-44"); numbers are converted and checked below.
    campaign = pd.read_csv(paths["campaign.csv"], dtype=str, keep_default_na=False)
    summary = pd.read_csv(paths["summary.csv"], dtype=str, keep_default_na=False)
    for name, frame, columns in (("campaign.csv", campaign, CAMPAIGN_COLUMNS), ("summary.csv", summary, SUMMARY_COLUMNS)):
        if list(frame.columns) != columns:
            check.fail(f"{name}: columns {list(frame.columns)}, expected {columns}")
            sys.exit(1)
        check.ok(f"{name}: columns {','.join(columns)} ({len(frame)} rows)")
    return manifest, campaign, summary


def numeric(frame, columns, name, check):
    """Converts `columns` to numbers; a value that is not one fails the check."""
    good = True
    for column in columns:
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[converted.isna()]
        if len(bad):
            check.fail(f"{name}: {len(bad)} values of {column} are not numbers", bad)
            good = False
        frame[column] = converted
    return good


def check_campaign(campaign, replications, check):
    if not numeric(campaign, ["replication", "day", "value"], "campaign.csv", check):
        return False
    before = check.failures
    for column in ("replication", "day", "value"):
        bad = campaign[(campaign[column] < 0) | (campaign[column] != campaign[column].round())]
        if len(bad):
            check.fail(f"campaign.csv: {len(bad)} values of {column} are negative or not whole", bad)
        campaign[column] = campaign[column].astype("int64")
    if check.failures == before:
        check.ok("campaign.csv: replication, day and value are whole numbers, not negative")
    outside = campaign[~campaign["replication"].between(0, replications - 1)]
    if len(outside):
        check.fail(f"campaign.csv: replications outside 0..{replications - 1} (manifest)", outside)
    counts = campaign.groupby(KEY).size().rename("replications").reset_index()
    partial = counts[counts["replications"] != replications]
    if len(partial):
        check.fail(f"campaign.csv: {len(partial)} rows not written for all {replications} replications", partial)
    else:
        check.ok(f"campaign.csv: every row written for all {replications} replications")
    return True


def district_series(campaign, replications, days):
    """Per replication, district and day: the district metrics, 0 where a row is missing."""
    wide = (campaign[campaign["access"] == "all"]
            .pivot_table(index=["replication", "district", "day"], columns="metric", values="value", aggfunc="sum", fill_value=0))
    vaccinations = (campaign[campaign["metric"].isin(["vaccinations_dose1", "vaccinations_dose2"])]
                    .groupby(["replication", "district", "day"])["value"].sum().rename("vaccinations"))
    districts = sorted(campaign["district"].unique())
    full = pd.MultiIndex.from_product([range(replications), districts, range(days)], names=["replication", "district", "day"])
    wide = wide.reindex(full, fill_value=0).join(vaccinations).fillna(0).astype("int64")
    for metric in ("doses_delivered", "doses_given", "doses_wasted", "stock_end", "vaccinations"):
        if metric not in wide.columns:
            wide[metric] = 0
    return wide


def check_doses(campaign, replications, days, check):
    wide = district_series(campaign, replications, days)
    per = wide.groupby(["replication", "district"])
    totals = per[["doses_delivered", "doses_given", "doses_wasted"]].sum()
    totals["stock_end_last_day"] = wide.xs(days - 1, level="day")["stock_end"]
    totals["difference"] = totals["doses_delivered"] - totals["doses_given"] - totals["doses_wasted"] - totals["stock_end_last_day"]
    broken = totals[totals["difference"] != 0].reset_index()
    if len(broken):
        check.fail(f"doses not conserved in {len(broken)} replication x district pairs "
                   f"(delivered != given + wasted + stock at the end of day {days - 1})", broken)
    else:
        check.ok(f"doses conserved in all {len(totals)} replication x district pairs "
                 f"(delivered = given + wasted + stock at the end of day {days - 1})")
    previous = per["stock_end"].shift(1, fill_value=0)
    flow = previous + wide["doses_delivered"] - wide["doses_given"] - wide["doses_wasted"] - wide["stock_end"]
    broken = wide[flow != 0].assign(difference=flow[flow != 0]).reset_index()
    if len(broken):
        check.fail(f"stock does not follow deliveries and doses on {len(broken)} replication x district x day", broken)
    else:
        check.ok("stock day by day: stock_end = previous stock_end + delivered - given - wasted")
    mismatch = wide[wide["doses_given"] != wide["vaccinations"]].reset_index()
    if len(mismatch):
        check.fail(f"doses_given != vaccinations_dose1 + vaccinations_dose2 on {len(mismatch)} replication x district x day",
                   mismatch[["replication", "district", "day", "doses_given", "vaccinations"]])
    else:
        check.ok("doses given = dose-1 + dose-2 vaccinations, every replication, district and day")


def check_summary(summary, campaign, replications, check):
    if not numeric(summary, ["mean", "ci95_low", "ci95_high", "replications"], "summary.csv", check):
        return
    wrong = summary[summary["replications"] != replications]
    if len(wrong):
        check.fail(f"summary.csv: replications differ from the manifest's {replications}", wrong)
    order = summary[(summary["ci95_low"] > summary["mean"] + 1e-9) | (summary["mean"] > summary["ci95_high"] + 1e-9)]
    if len(order):
        check.fail("summary.csv: ci95_low <= mean <= ci95_high does not hold", order)
    negative = summary[summary["mean"] < 0]  # counts, shares and percentiles alike
    if len(negative):
        check.fail("summary.csv: negative means", negative)
    # Totals: the summary's mean against the mean over replications of the CSV's total.
    totals = campaign.groupby(["metric", "replication"])["value"].sum().unstack(fill_value=0)
    totals = totals.reindex(columns=range(replications), fill_value=0)
    means = totals.mean(axis=1)
    rows = []
    for metric, csv_mean in means.items():
        if metric == "stock_end":
            continue  # the summary has stock_at_end (last day only)
        row = summary[summary["metric"] == metric]
        if row.empty:
            rows.append((metric, csv_mean, float("nan")))
            continue
        reported = float(row["mean"].iloc[0])
        if abs(reported - csv_mean) > 1e-6 * max(1.0, abs(csv_mean)) + 0.01:
            rows.append((metric, csv_mean, reported))
    if rows:
        check.fail("summary.csv totals differ from campaign.csv (mean over replications)",
                   pd.DataFrame(rows, columns=["metric", "campaign_csv_mean", "summary_mean"]))
    else:
        check.ok(f"summary.csv: {len(means) - ('stock_end' in means)} totals match campaign.csv, confidence intervals ordered")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--days", type=int, help="the scenario's campaign.days (default: the last day in campaign.csv + 1)")
    args = parser.parse_args()
    check = Checker()
    manifest, campaign, summary = load(args.directory, check)
    replications = int(manifest.get("replications", 0))
    if replications < 1:
        check.fail(f"manifest.json: replications {manifest.get('replications')!r}, expected a whole number >= 1")
        sys.exit(1)
    print(f"     scenario {manifest.get('scenario')!r}, seed {manifest.get('seed')}, {replications} replications")
    if check_campaign(campaign, replications, check):
        last = int(campaign["day"].max()) if len(campaign) else 0
        days = args.days if args.days is not None else last + 1
        if days <= last:
            check.fail(f"--days {days}, but campaign.csv has rows up to day {last}")
            days = last + 1
        check_doses(campaign, replications, days, check)
        check_summary(summary, campaign, replications, check)
        vaccinations = campaign[campaign["metric"].isin(["vaccinations_dose1", "vaccinations_dose2"])]
        pivot = vaccinations.pivot_table(index="access", columns="channel", values="value", aggfunc="sum", fill_value=0,
                                         margins=True, margins_name="total") / replications
        print("\nvaccinations (dose 1 + dose 2, mean per replication) by access x channel:")
        print(pivot.round(1).to_string())
    print()
    if check.failures:
        print(f"{check.failures} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
