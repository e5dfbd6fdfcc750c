"""Lookup join reference: pandas' left merge, many-to-one, of two CSV files.

Usage: join_reference.py REPORTS.csv ACCOUNTS.csv KEY LOOKUP_KEY
Prints JSON: for "first" and "last" (which row of a repeated lookup key is kept, by
drop_duplicates), each added column's values in the reports' row order (null where missing),
and the counts of rows matched, not matched and without a key.
"""
import json
import sys

import pandas as pd


def main():
    reports_path, accounts_path, key, lookup_key = sys.argv[1:5]
    reports = pd.read_csv(reports_path, dtype={key: "Int64"})
    accounts = pd.read_csv(accounts_path, dtype={lookup_key: "Int64"})
    out = {}
    for keep in ("first", "last"):
        lookup = accounts.dropna(subset=[lookup_key]).drop_duplicates(subset=[lookup_key], keep=keep)
        lookup = lookup.rename(columns={c: f"{c}__lookup" for c in lookup.columns if c != lookup_key})
        merged = reports.merge(lookup, how="left", left_on=key, right_on=lookup_key, validate="m:1", indicator=True, suffixes=("", "__key"))
        columns = {}
        for c in accounts.columns:
            if c == lookup_key:
                continue
            values = merged[f"{c}__lookup"].astype(object).where(merged[f"{c}__lookup"].notna(), None).tolist()
            columns[c] = [v.item() if hasattr(v, "item") else v for v in values]
        has_key = reports[key].notna()
        out[keep] = {
            "columns": columns,
            "matched": int((merged["_merge"] == "both").sum()),
            "unmatched": int(((merged["_merge"] == "left_only") & has_key.values).sum()),
            "missing_key": int((~has_key).sum()),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
