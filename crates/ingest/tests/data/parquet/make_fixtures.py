"""Writes the Parquet fixtures of the ingest tests, as pandas, pyarrow and DuckDB write them.

Run once from this folder; the files are committed, so the tests need no Python:

    python3 -m venv venv && venv/bin/pip install pyarrow pandas duckdb
    venv/bin/python make_fixtures.py

Made with pyarrow 26.0.1, pandas 3.1.1 and duckdb 2.0.1.
"""

import duckdb
import numpy as np
import pandas as pd

# pandas' defaults: snappy, dictionary-encoded strings, a naive datetime64[ns] column (stored as
# TIMESTAMP(NANOS) not adjusted to UTC), a float column with a NaN for a missing revenue.
events = pd.DataFrame(
    {
        "email": ["ana@example.com", "ben@example.com", None, "ana@example.com"],
        "anonymous_id": [None, None, "anon-7", None],
        "event": ["page_view", "page_view", "page_view", "purchase"],
        "timestamp": pd.to_datetime(
            ["2026-03-01 09:00:00", "2026-03-01 09:30:15.250", "2026-03-02 12:00:00", "2026-03-03 18:45:00"],
            format="ISO8601",
        ).astype("datetime64[ns]"),
        "page": ["/", "/shop?utm_source=instagram&utm_medium=cpc", "/", "/checkout/done"],
        "revenue": [np.nan, np.nan, np.nan, 42.5],
        "plan": ["free", "pro", None, "free"],
    }
)
events.to_parquet("events_pandas.parquet", index=False)

# DuckDB: zstd, a TIMESTAMPTZ (microseconds, adjusted to UTC), a DECIMAL stored as an integer, two
# lines of one order.
duckdb.sql(
    """
    COPY (
        SELECT * FROM (VALUES
            ('1001', 'ana@example.com', TIMESTAMPTZ '2026-03-03 18:45:00+00', 42.50::DECIMAL(10,2), 'EUR', 'Mug', 2, 12.25::DECIMAL(10,2)),
            ('1001', 'ana@example.com', TIMESTAMPTZ '2026-03-03 18:45:00+00', 42.50::DECIMAL(10,2), 'EUR', 'Beans', 1, 18.00::DECIMAL(10,2)),
            ('1002', 'ben@example.com', TIMESTAMPTZ '2026-03-04 08:00:00+00', 1234.00::DECIMAL(10,2), 'EUR', 'Grinder', 1, 1234.00::DECIMAL(10,2))
        ) AS t(order_id, email, created_at, total, currency, product, quantity, price)
    ) TO 'orders_duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)
    """
)

# A codec Trailmap does not read, for the error that says so.
pd.DataFrame({"channel": ["Paid Social"], "month": ["2026-03"], "amount": [120.0]}).to_parquet(
    "spend_brotli.parquet", index=False, compression="brotli"
)
