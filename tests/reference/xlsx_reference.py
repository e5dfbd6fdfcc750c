"""Excel workbooks for the .xlsx reader's reference test: writes a seeded workbook with openpyxl
(a notes sheet, an empty sheet, then a reports sheet of texts with commas, quotes and line
breaks, whole and decimal numbers, dates, date-times, booleans, empty cells and formula errors)
and prints what pandas.read_excel reads from each sheet, as JSON: times as ms since the epoch
(naive, as written), missing as null.

usage: xlsx_reference.py OUT.xlsx SEED
"""

import datetime as dt
import json
import math
import random
import sys

import openpyxl
import pandas as pd


def write(path, seed):
    rng = random.Random(seed)
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Export of 2026-11-30", None])
    notes.append(["owner", "trust & safety"])
    book.create_sheet("Empty")
    sheet = book.create_sheet("Reports")
    sheet.append(["report_id", "reason", "score", "strikes", "created_at", "day", "escalated", "note"])
    reasons = ["spam", "scam, phishing", 'say "hi"', "harassment\nthreat", "hate"]
    start = dt.datetime(2026, 1, 1)
    for i in range(400):
        at = start + dt.timedelta(seconds=rng.randrange(0, 90 * 86400))
        row = [
            f"r{i}",
            rng.choice(reasons),
            round(rng.uniform(-5, 100), rng.choice([0, 2, 6])) if rng.random() > 0.05 else None,
            rng.randrange(0, 9) if rng.random() > 0.05 else None,
            at,
            at.date() if rng.random() > 0.05 else None,
            rng.random() < 0.3,
            None if rng.random() < 0.5 else f"note {rng.randrange(1000)}",
        ]
        sheet.append(row)
        sheet.cell(row=i + 2, column=6).number_format = "yyyy-mm-dd"
    # Formula errors as Excel stores them.
    for row in (5, 77):
        cell = sheet.cell(row=row, column=3)
        cell.value = "#DIV/0!" if row == 5 else "#N/A"
        cell.data_type = "e"
    book.save(path)


def plain(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return int(pd.Timestamp(value).value // 1_000_000)
    if isinstance(value, dt.date):
        return int(pd.Timestamp(value).value // 1_000_000)
    if hasattr(value, "item"):
        return value.item()
    return value


def main():
    path, seed = sys.argv[1], int(sys.argv[2])
    write(path, seed)
    out = {"sheets": pd.ExcelFile(path).sheet_names}
    for name in ("Notes", "Reports"):
        frame = pd.read_excel(path, sheet_name=name)
        out[name] = {"columns": list(frame.columns), "rows": [[plain(v) for v in row] for row in frame.itertuples(index=False)]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
