"""Helpers shared by the tests: where the fixtures are and what a finished dbt build looks like."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WORKED_EXAMPLE = FIXTURES / "kpi_example"
# `dbt build` of a data set: every seed, model, snapshot and data test, but not the unit tests, which read
# no data (test_engines runs all of them on every engine, test_every_dbt_test_passes_on_every_engine).
DATA_BUILD = ("build", "--exclude-resource-type", "unit_test")


@dataclass(frozen=True)
class Build:
    """A finished `dbt build`: its warehouse, output and exit code."""

    warehouse: Path
    returncode: int
    output: str

    def table(self, name: str, schema: str = "marts") -> pd.DataFrame:
        """A table of the warehouse as a DataFrame."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(f'select * from "{schema}"."{name}"').df()


BuildFn = Callable[..., Build]

# a JVM stack frame ("\tat org.apache...") or its elision ("... 3 more") in an error Spark sent back
_JVM_FRAME = re.compile(r"^\W*(at [\w$.<>/]+\(.*\)|\.\.\. \d+ more)\s*$")


def failure_text(output: str, limit: int = 8000) -> str:
    """A failed command's output for an assertion message: without JVM stack frames, so that the error
    Spark sent back (its first line) is not cut off by the frames after it; the last `limit` characters."""
    kept = [line for line in output.splitlines() if not _JVM_FRAME.match(line)]
    return "\n".join(kept)[-limit:]
