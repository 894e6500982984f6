"""The cost simulation's report (``policy simulate --out DIR``): a histogram of the draws'
totals with the pool and the quantiles marked, the pay-for-performance curve, and the
per-department quantiles. One self-contained HTML page, as the other reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alignment_engine.i18n import _, current
from alignment_engine.reports.svg import element, esc, fmt, svg_document, text_block

__all__ = ["cost_histogram", "pay_for_performance_chart", "simulation_report"]

WIDTH, HEIGHT = 720.0, 340.0
LEFT, RIGHT, TOP, BOTTOM = 90.0, 20.0, 40.0, 50.0


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _svg(parts: list[str]) -> str:
    return svg_document(WIDTH, HEIGHT, parts)


def cost_histogram(document: Mapping[str, Any]) -> str:
    """``rect.bin`` per range of totals (titled with its count), ``line.pool`` at the pool and
    ``line.quantile`` at p10, p50 and p90."""
    bins: Sequence[Mapping[str, Any]] = document["histogram"]
    total = document["total"]
    pool = document.get("pool")
    currency = document.get("currency", "")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low = min([float(bins[0]["low"])] + ([float(pool)] if pool is not None else []))
    high = max([float(bins[-1]["high"])] + ([float(pool)] if pool is not None else []))
    span = (high - low) or max(abs(high), 1.0)
    tallest = max(int(b["draws"]) for b in bins) or 1

    def x_of(value: float) -> float:
        return LEFT + (value - low) / span * plot_w

    parts = [
        text_block(
            [
                _("Total cost over {draws} draws ({currency})").format(
                    draws=f"{document['draws']:,}", currency=currency
                )
            ],
            LEFT, 22, 14, anchor="start", weight="600",
        )
    ]  # fmt: skip
    for item in bins:
        x0, x1 = x_of(float(item["low"])), x_of(float(item["high"]))
        height = int(item["draws"]) / tallest * plot_h
        parts.append(
            element(
                "rect",
                {"class": "bin", "x": fmt(x0), "y": fmt(TOP + plot_h - height),
                 "width": fmt(max(x1 - x0 - 1, 1.0)), "height": fmt(height), "fill": "#8fb8f0"},
                element("title", {}, esc(
                    f"{_amount(float(item['low']))} - {_amount(float(item['high']))}: "
                    + _("{draws} draws").format(draws=f"{item['draws']:,}")
                )),
            )
        )  # fmt: skip
    marks = [("p10", total["p10"]), ("p50", total["p50"]), ("p90", total["p90"])]
    for name, value in marks:
        x = x_of(float(value))
        parts.append(
            element(
                "line",
                {"class": "quantile", "x1": fmt(x), "x2": fmt(x), "y1": fmt(TOP),
                 "y2": fmt(TOP + plot_h), "stroke": "#1f3f8f", "stroke-dasharray": "3 3"},
            )
        )  # fmt: skip
        parts.append(text_block([name], x + 3, TOP + 12, 11, anchor="start"))
    if pool is not None:
        x = x_of(float(pool))
        parts.append(
            element(
                "line",
                {"class": "pool", "x1": fmt(x), "x2": fmt(x), "y1": fmt(TOP),
                 "y2": fmt(TOP + plot_h), "stroke": "#c0392b", "stroke-width": "2"},
            )
        )  # fmt: skip
        over = total.get("p_over_pool")
        said = f"{_('pool')} {_amount(float(pool))}" + (
            " " + _("(exceeded in {share} of draws)").format(share=f"{over:.1%}")
            if over is not None
            else ""
        )
        parts.append(text_block([said], x - 4, TOP + 28, 11, anchor="end"))
    for value, anchor in ((low, "start"), (high, "end")):  # inside the chart, never cut
        parts.append(
            text_block([_amount(value)], x_of(value), TOP + plot_h + 18, 11, anchor=anchor)
        )
    parts.append(text_block([_("draws")], LEFT - 10, TOP + plot_h / 2, 11, anchor="end"))
    return _svg(parts)


def pay_for_performance_chart(document: Mapping[str, Any]) -> str:
    """``polyline.pay`` through each performance bin's mean cost as a share of the target
    cost (``circle.point`` per bin, titled)."""
    points: Sequence[Mapping[str, Any]] = document["pay_for_performance"]
    measure = _(str(document.get("performance_measure", "performance")))
    parts = [
        text_block(
            [_("Pay for performance: cost / target cost by {measure}").format(measure=measure)],
            LEFT, 22, 14, anchor="start", weight="600",
        )
    ]  # fmt: skip
    if not points:
        parts.append(text_block([_("no performance to show")], LEFT, TOP + 40, 12, anchor="start"))
        return _svg(parts)
    xs = [float(p["performance_mean"]) for p in points]
    ys = [float(p["share_of_target"]) for p in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min([0.0, *ys]), max([1.0, *ys])
    x_span = (x_high - x_low) or 1.0
    y_span = (y_high - y_low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(value: float) -> float:
        return LEFT + (value - x_low) / x_span * plot_w

    def y_of(value: float) -> float:
        return TOP + plot_h - (value - y_low) / y_span * plot_h

    line = " ".join(f"{fmt(x_of(x))},{fmt(y_of(y))}" for x, y in zip(xs, ys, strict=True))
    parts.append(
        element(
            "polyline",
            {"class": "pay", "points": line, "fill": "none", "stroke": "#1f6feb",
             "stroke-width": "2"},
        )
    )  # fmt: skip
    for point, x, y in zip(points, xs, ys, strict=True):
        parts.append(
            element(
                "circle",
                {"class": "point", "cx": fmt(x_of(x)), "cy": fmt(y_of(y)), "r": "3",
                 "fill": "#1f6feb"},
                element("title", {}, esc(
                    _("{measure} {value}: {share} of target ({draws} draws)").format(
                        measure=measure, value=f"{x:.3f}", share=f"{y:.1%}",
                        draws=f"{point['draws']:,}",
                    )
                )),
            )
        )  # fmt: skip
    for value in (y_low, y_high):
        parts.append(text_block([f"{value:.0%}"], LEFT - 6, y_of(value) + 4, 11, anchor="end"))
    for value, anchor in ((x_low, "start"), (x_high, "end")):
        parts.append(
            text_block([f"{value:.3f}"], x_of(value), TOP + plot_h + 18, 11, anchor=anchor)
        )
    parts.append(text_block([measure], LEFT + plot_w / 2, TOP + plot_h + 36, 12, anchor="middle"))
    return _svg(parts)


def simulation_report(document: Mapping[str, Any]) -> str:
    total = document["total"]
    over = total.get("p_over_pool")
    cards = [
        (_("mean"), _amount(float(total["mean"]))),
        ("p10 / p50 / p90", " / ".join(_amount(float(total[k])) for k in ("p10", "p50", "p90"))),
        (_("target cost"), _amount(float(document["target_total"]))),
        (
            _("pool"),
            _("none") if document.get("pool") is None else _amount(float(document["pool"])),
        ),
        (_("draws over the pool"), "-" if over is None else f"{over:.1%}"),
    ]
    rows = "".join(
        "<tr>"
        + f"<td>{esc(d['department'])}</td>"
        + "".join(
            f"<td class='num'>{_amount(float(d[k]))}</td>" for k in ("mean", "p10", "p50", "p90")
        )
        + "</tr>"
        for d in document["departments"]
    )
    source = (
        _("past periods resampled whole ({count} periods)").format(
            count=len(document.get("periods") or [])
        )
        if document["source"] == "history"
        else _("KPI results drawn from distributions")
    )
    return (
        f"<!doctype html><html lang='{current()}'><head><meta charset='utf-8'>"
        f"<title>{esc(_('Cost of {policy}').format(policy=document['policy_id']))}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:60em}"
        ".cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;padding:.6em 1em}"
        ".card b{display:block;font-size:1.2em}td,th{padding:.2em .6em;text-align:left}"
        ".num{text-align:right;font-variant-numeric:tabular-nums}</style></head><body>"
        + "<h1>"
        + esc(
            _("Cost of {policy} for {period}").format(
                policy=document["policy_id"], period=document["period"]
            )
        )
        + "</h1><p>"
        + esc(
            _(
                "{draws} draws, {source}, seed {seed}; amounts in {currency}, before the pool "
                "is fitted."
            ).format(
                draws=f"{document['draws']:,}",
                source=source,
                seed=document["seed"],
                currency=document.get("currency", ""),
            )
        )
        + "</p><div class='cards'>"
        + "".join(f"<div class='card'>{esc(k)}<b>{esc(v)}</b></div>" for k, v in cards)
        + "</div>"
        + f"<figure>{cost_histogram(document)}</figure>"
        + f"<figure>{pay_for_performance_chart(document)}</figure>"
        + f"<h2>{esc(_('By department'))}</h2><table><thead><tr>"
        f"<th>{esc(_('department'))}</th><th>{esc(_('mean'))}</th>"
        "<th>p10</th><th>p50</th><th>p90</th></tr></thead><tbody>"
        + rows
        + "</tbody></table></body></html>\n"
    )
