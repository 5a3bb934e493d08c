"""quality.validate: one Great Expectations context per process, and nothing of a validated frame
kept by it afterwards."""

from __future__ import annotations

import gc
import weakref

import great_expectations as gx
import pandas as pd

from quality.validate import validate


def test_a_validated_frame_is_not_kept_alive_by_the_shared_context() -> None:
    """GX's execution engine caches every batch it loads for the life of the data source: a year's
    backfill kept all its raw tables alive through dbt's build until validate() cleared it."""
    frame = pd.DataFrame({"price": [1.0, None, 3.0]})
    alive = weakref.ref(frame)
    report = validate("frame", frame, [gx.expectations.ExpectColumnValuesToNotBeNull(column="price")])
    assert not report.success and report.failures[0].unexpected_count == 1  # it really ran on the frame
    del frame
    gc.collect()
    assert alive() is None
