"""The Spark session factory's settings, without starting a JVM: threads as `local[N]`,
memory sizes as Spark spells them, and one clear error when Java is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from forvalg.engines.spark import SETTINGS, SparkUnavailable, _memory, check_java, master_for


def test_threads_are_local_n() -> None:
    assert master_for(1) == "local[1]"
    assert master_for(2) == "local[2]"
    assert master_for(None) == "local[*]"
    with pytest.raises(ValueError, match="at least 1"):
        master_for(0)


@pytest.mark.parametrize(
    ("given", "spark"), [("2GB", "2g"), ("512MB", "512m"), ("2g", "2g"), ("1 GiB", "1g")]
)
def test_memory_is_spelt_for_spark(given: str, spark: str) -> None:
    assert _memory(given) == spark


def test_a_bad_memory_size_is_named() -> None:
    with pytest.raises(ValueError, match="'lots'"):
        _memory("lots")


def test_without_java_the_error_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SparkUnavailable, match=r"needs Java 17 or later.*--engine duckdb"):
        check_java()


def test_the_settings_results_depend_on() -> None:
    assert SETTINGS["spark.sql.session.timeZone"] == "UTC"
    assert SETTINGS["spark.sql.parquet.outputTimestampType"] == "TIMESTAMP_MICROS"
    assert SETTINGS["spark.sql.ansi.enabled"] == "true"
