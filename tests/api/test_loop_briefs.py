"""The closed loop's four figures in the weekly and the monthly brief (HTML and PDF), coloured by good or
bad, changes in percentage points, a partial period said so, and the CLI's files by language; against the
seeded months of :mod:`tests.api.loop_seed` (expected values worked out by hand from its hours)."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest

from api.access.auth import Principal
from api.core.db import make_engine, migrate, session_factory
from api.http.services import services_of
from api.reports.briefs import WORDS, brief_data, delta, render_html
from api.reports.charts import stacked
from api.reports.closed_loop import LoopTargets
from api.reports.periods import Period
from sitewatch.cli.parser import main
from tests.api.conftest import Api
from tests.api.loop_seed import seed_loop


def figure(html: str, key: str) -> dict[str, str]:
    """A figure of a brief: its value, the previous period's, the change and its colour, the counts."""
    match = re.search(
        rf'data-figure="{key}"><span class="muted">([^<]*)</span><b>([^<]*)</b>\s*'
        rf'<span class="muted">[^<]* ([^<]*)</span> <span class="change ([a-z]*)">([^<]*)</span>\s*'
        rf'(?:<div class="muted counts">([^<]*)</div>)?',
        html,
    )
    assert match, key
    label, value, previous, judged, change, counts = match.groups()
    return {"label": label, "value": value, "previous": previous, "judged": judged, "change": change,
            "counts": counts or ""}  # fmt: skip


def brief(api: Api, who: str, **params: str) -> str:
    response = api.client.get("/api/v1/briefs", params=params, headers=api.as_(who))
    assert response.status_code == 200, response.text
    return response.text


def test_the_monthly_brief_leads_with_the_four_figures(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    html = brief(api, "supervisor", period="2026-10")  # site-a, against September
    assert figure(html, "closure_rate") == {
        "label": "当月办结率",
        "value": "90.0%",  # 9 of 10
        "previous": "50.0%",  # 2 of 4
        "judged": "good",
        "change": "▲40.0个百分点",
        "counts": "9/10 件",
    }
    assert figure(html, "mean_handling_hours") | {"counts": ""} == {
        "label": "平均处理时长（小时）",
        "value": "18.3",  # 164.7 hours over 9
        "previous": "168.6",
        "judged": "good",  # shorter is better
        "change": "▼150.3小时",
        "counts": "",
    }
    fast = figure(html, "fast_close_rate")
    assert (fast["label"], fast["value"], fast["counts"]) == ("速办率", "77.8%", "24小时内办结 7/9 件")
    calls = figure(html, "call_share")
    assert (calls["label"], calls["value"], calls["counts"], calls["change"]) == (
        "云呼占比",
        "40.0%",
        "4/10 件",
        "▲40.0个百分点",
    )
    assert figure(html, "median_handling_hours")["value"] == "5.0"
    assert "data-partial" not in html  # October is over

    # the district (the viewer sees both sites): site-b's two open cases join in
    district = brief(api, "viewer", period="2026-10", lang="en")
    closure = figure(district, "closure_rate")
    assert (closure["label"], closure["value"], closure["counts"]) == (
        "Monthly closure rate",
        "75.0%",
        "9 of 12 cases",
    )
    assert closure["change"] == "▲25.0 pp"
    assert figure(district, "call_share")["value"] == "50.0%"


def test_the_weekly_brief_has_the_four_figures_and_a_slower_week_is_red(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    # Week 41 (5-11 October), site-a: cases of 4, 5 and 10 hours, one called; week 40 (28 September -
    # 4 October): 1, 2 and 3 hours, two called.
    html = brief(api, "supervisor", period="2026-W41")
    closure = figure(html, "closure_rate")
    assert (closure["label"], closure["value"], closure["change"], closure["judged"]) == (
        "办结率",
        "100.0%",
        "=0.0个百分点",
        "same",
    )
    mean = figure(html, "mean_handling_hours")
    assert (mean["value"], mean["previous"], mean["change"], mean["judged"]) == (
        "6.3",
        "2.0",
        "▲4.3小时",
        "bad",
    )
    calls = figure(html, "call_share")
    assert (calls["value"], calls["previous"], calls["change"], calls["judged"]) == (
        "33.3%",
        "66.7%",
        "▼33.3个百分点",
        "bad",
    )
    assert figure(html, "fast_close_rate")["value"] == "100.0%"


def test_the_baseline_in_a_brief(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    with services_of(api.app).sessions() as session:
        data = brief_data(
            session,
            principal=Principal(name="t", role="viewer", site_ids=("site-a",)),
            period=Period.parse("2026-10", "Asia/Shanghai"),
            store=services_of(api.app).store,
            lang="en",
            targets=LoopTargets(baseline_since=date(2025, 1, 1), baseline_until=date(2025, 1, 31)),
        )
    html = render_html(data)
    assert "baseline: 2025-01-01 – 2025-01-31" in html
    shown = {f["key"]: (f["baseline"], f["baseline_delta"], f["baseline_judged"]) for f in data["figures"]}
    assert shown["closure_rate"] == ("80.0%", "▲10.0 pp", "good")  # January 2025: 4 of 5
    assert shown["mean_handling_hours"] == ("48.0", "▼29.7 h", "good")
    assert shown["call_share"] == ("0.0%", "▲40.0 pp", "good")


def test_the_monthly_pdf_holds_the_four_figures(api: Api) -> None:
    seed_loop(services_of(api.app).sessions)
    response = api.client.get(
        "/api/v1/briefs", params={"period": "2026-10", "format": "pdf"}, headers=api.as_("supervisor")
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert 'filename="sitewatch-2026-10-district-zh.pdf"' in response.headers["content-disposition"]
    pages = pypdf.PdfReader(io.BytesIO(response.content)).pages
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pages))
    for shown in (
        "当月办结率",
        "90.0%",
        "平均处理",  # (its 长 comes out of the PDF as the radical ⻓, which NFKC leaves alone)
        "18.3",
        "速办率",
        "77.8%",
        "云呼占比",
        "40.0%",
        "个百分点",
    ):
        assert unicodedata.normalize("NFKC", shown) in text, shown
    for day in ("10-01", "10-03", "10-31"):  # every other day of the month on the chart
        assert day in text, day
    assert "10-02" not in text


def test_a_partial_period_says_so(api: Api) -> None:
    month = (
        datetime.now(UTC).astimezone(Period.parse("2026-10", "Asia/Shanghai").start.tzinfo).strftime("%Y-%m")
    )
    zh = brief(api, "viewer", period=month)
    en = brief(api, "viewer", period=month, lang="en")
    assert "本期未结束" in zh and "（未完）" in zh
    assert "Partial period" in en and "(partial)" in en
    assert "Partial period" not in brief(api, "viewer", period="2026-10", lang="en")
    assert "Partial period" in brief(api, "viewer", period="2099-W52", lang="en")  # ahead: still partial


@pytest.mark.parametrize(
    ("key", "now", "before", "lang", "text", "judged"),
    [
        ("closure_rate", 0.70, 0.892, "en", "▼19.2 pp", "bad"),
        ("closure_rate", 0.70, 0.892, "zh", "▼19.2个百分点", "bad"),
        ("closure_rate", 0.99, 0.89, "zh", "▲10.0个百分点", "good"),
        ("mean_handling_hours", 18.3, 168.6, "zh", "▼150.3小时", "good"),
        ("mean_handling_hours", 20.5, 18.3, "en", "▲2.2 h", "bad"),
        ("fast_close_rate", 0.964, 0.305, "en", "▲65.9 pp", "good"),
        ("call_share", 0.036, 0.518, "en", "▼48.2 pp", "bad"),
        ("violations", 5, 10, "en", "▼ 50%", "good"),
        ("false_alarm_share", 0.2, 0.1, "en", "▲10.0 pp", "bad"),
        ("officer_on_site_share", 0.5, 0.6, "en", "▼10.0 pp", "bad"),
        ("opened", 12, 10, "en", "▲ 20%", ""),  # a count of work: neither good nor bad
        ("closure_rate", None, 0.5, "en", "", ""),
    ],
)
def test_changes_are_coloured_by_good_or_bad(
    key: str, now: float | None, before: float | None, lang: str, text: str, judged: str
) -> None:
    assert delta(key, now, before, WORDS[lang]) == (text, judged)


def test_a_month_of_day_labels_is_thinned() -> None:
    days = [f"10-{d:02d}" for d in range(1, 32)]
    svg = stacked("t", days, [("a", [1] * 31)])
    shown = re.findall(r">(10-\d\d)</text>", svg)
    assert shown == days[::2]  # 16 of 31: every other day
    week = stacked("t", days[:7], [("a", [1] * 7)])
    assert re.findall(r">(10-\d\d)</text>", week) == days[:7]


def test_the_cli_writes_each_language_into_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(f"sqlite:///{data / 'sitewatch.db'}")
    migrate(engine)
    seed_loop(session_factory(engine))
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    for lang in ("zh", "en"):
        code = main(
            ["report", "--month", "2026-10", "--format", "html", "--lang", lang, "--data-dir", str(data)]
        )
        assert code == 0
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == ["sitewatch-2026-10-district-en.html", "sitewatch-2026-10-district-zh.html"]
    assert "当月办结率" in (tmp_path / "reports" / written[1]).read_text(encoding="utf-8")
    assert "Monthly closure rate" in (tmp_path / "reports" / written[0]).read_text(encoding="utf-8")
    out = tmp_path / "elsewhere"
    assert (
        main(
            ["report", "--period", "2026-W41", "--format", "html", "--data-dir", str(data), "--out", str(out)]
        )
        == 0
    )
    assert [p.name for p in out.iterdir()] == ["sitewatch-2026-W41-district-zh.html"]
