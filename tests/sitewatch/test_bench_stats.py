"""``sitewatch bench stats`` on a small month: the figures agree with the seeded rows, and the number of
queries does not grow with the data."""

from __future__ import annotations

from sitewatch.bench.stats import bench_stats


def test_the_figures_agree_with_the_seeded_rows_in_as_many_queries_whatever_the_size() -> None:
    small = bench_stats(cases=60, events=300, sites=5, runs=1)
    large = bench_stats(cases=600, events=3000, sites=5, runs=1)
    assert small["problems"] == [] and large["problems"] == []
    assert small["queries"] == large["queries"]
    assert (large["cases"], large["events"]) == (600, 3000)
