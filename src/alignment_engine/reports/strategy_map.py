"""The strategy map: objectives in four perspective bands, ``drives`` arrows, and the KPIs
(department KPIs, company KPIs and shared goals) that serve each objective."""

from __future__ import annotations

from dataclasses import dataclass

from alignment_engine.i18n import _
from alignment_engine.model import Plan
from alignment_engine.reports.svg import element, esc, fmt, text_block, two_lines, wrap

__all__ = ["PERSPECTIVES", "Standing", "strategy_map"]

Standing = tuple[float | None, str]
"""A scorecard item's score and status (green, amber, red, no-data, not-due)."""

_COLOUR = {"green": "green", "amber": "amber", "red": "red"}  # no-data, not-due: grey


def _standing_text(standing: Standing) -> str:
    score, status = standing
    return _(status) if score is None else f"{score:.1%} {_(status)}"


PERSPECTIVES = (
    ("financial", "Financial"),
    ("customer", "Customer"),
    ("internal_process", "Internal process"),
    ("learning_growth", "Learning & growth"),
)
WIDTH = 1200.0
LABEL_WIDTH = 130.0
BOX_MAX = 250.0
TITLE_SIZE = 13.0
KPI_SIZE = 11.0
MAX_KPI_LINES = 5
BAND_PAD = 22.0


@dataclass
class _Box:
    id: str
    x: float  # left
    y: float  # top
    width: float
    height: float
    band: int
    title: list[str]
    kpis: list[str]  # the lines listing the KPIs shown (a long label takes two)
    more: int
    horizon: str
    tooltip: str
    listed: int = 0  # how many KPIs the lines show

    @property
    def centre_x(self) -> float:
        return self.x + self.width / 2


def _serving(plan: Plan) -> dict[str, list[str]]:
    """Objective id -> labels of the KPIs and shared goals that serve it, in plan order."""
    serving: dict[str, list[str]] = {o.id: [] for o in plan.objectives}
    for scope, kpi in plan.kpis():
        for objective_id in kpi.objectives:
            if objective_id in serving:
                owner = "shared" if scope == kpi.id else scope
                serving[objective_id].append(f"{kpi.name or kpi.id} ({owner})")
    return serving


def _boxes(plan: Plan) -> tuple[list[_Box], list[float], list[float]]:
    """Boxes laid out band by band; the top and height of each band."""
    serving = _serving(plan)
    boxes: list[_Box] = []
    band_tops: list[float] = []
    band_heights: list[float] = []
    top = 10.0
    for band, (perspective, _label) in enumerate(PERSPECTIVES):
        members = [o for o in plan.objectives if o.perspective.value == perspective]
        slot = (WIDTH - LABEL_WIDTH - 20) / max(len(members), 1)
        width = min(BOX_MAX, slot - 20)
        row: list[_Box] = []
        for index, objective in enumerate(members):
            title = wrap(objective.name or objective.id, width - 16, TITLE_SIZE, 3)
            labels = serving[objective.id]
            listed = labels if len(labels) <= MAX_KPI_LINES else labels[: MAX_KPI_LINES - 1]
            more = len(labels) - len(listed)
            # A label takes a second line rather than losing its owner or half its name.
            shown = [
                line if number == 0 else "   " + line
                for label in listed
                for number, line in enumerate(two_lines("▸ " + label, width - 16, KPI_SIZE))
            ]
            kpi_lines = len(shown) + (1 if more else 0)
            height = 12 + TITLE_SIZE * 1.25 * len(title) + 16 + KPI_SIZE * 1.3 * kpi_lines + 8
            if not labels:
                height += KPI_SIZE * 1.3
            x = LABEL_WIDTH + 10 + slot * index + (slot - width) / 2
            tooltip = f"{objective.id}: {objective.name} — " + (
                _("{count} KPI(s)").format(count=len(labels)) if labels else _("no KPI serves it")
            )
            row.append(
                _Box(
                    objective.id,
                    x,
                    0.0,
                    width,
                    height,
                    band,
                    title,
                    shown,
                    more,
                    objective.horizon.value,
                    tooltip,
                    len(listed),
                )
            )
        band_height = max((b.height for b in row), default=40.0) + 2 * BAND_PAD
        for box in row:
            box.y = top + BAND_PAD + (band_height - 2 * BAND_PAD - box.height) / 2
        boxes += row
        band_tops.append(top)
        band_heights.append(band_height)
        top += band_height + 8
    return boxes, band_tops, band_heights


def _arrow(source: _Box, target: _Box) -> str:
    """A curve from the driving objective to the one it drives."""
    if target.band < source.band:  # drives upwards (the usual cause -> effect direction)
        x1, y1 = source.centre_x, source.y
        x2, y2 = target.centre_x, target.y + target.height
        bend = (y1 - y2) / 2
        d = f"M{fmt(x1)},{fmt(y1)} C{fmt(x1)},{fmt(y1 - bend)} {fmt(x2)},{fmt(y2 + bend)} {fmt(x2)},{fmt(y2)}"
    elif target.band > source.band:
        x1, y1 = source.centre_x, source.y + source.height
        x2, y2 = target.centre_x, target.y
        bend = (y2 - y1) / 2
        d = f"M{fmt(x1)},{fmt(y1)} C{fmt(x1)},{fmt(y1 + bend)} {fmt(x2)},{fmt(y2 - bend)} {fmt(x2)},{fmt(y2)}"
    else:  # same band: arc over the top
        left_to_right = target.x > source.x
        x1 = source.x + source.width if left_to_right else source.x
        x2 = target.x if left_to_right else target.x + target.width
        y1 = source.y + 14
        y2 = target.y + 14
        lift = min(source.y, target.y) - 12
        d = f"M{fmt(x1)},{fmt(y1)} C{fmt(x1)},{fmt(lift)} {fmt(x2)},{fmt(lift)} {fmt(x2)},{fmt(y2)}"
    return element(
        "path",
        {
            "class": "drive",
            "d": d,
            "data-from": source.id,
            "data-to": target.id,
            "marker-end": "url(#sm-arrow)",
        },
        element(
            "title",
            {},
            esc(_("{source} drives {target}").format(source=source.id, target=target.id)),
        ),
    )


def strategy_map(
    plan: Plan,
    objectives: dict[str, Standing] | None = None,
    perspectives: dict[str, Standing] | None = None,
) -> str:
    """The strategy map as one ``<svg>``: a ``g.objective`` per objective, a ``path.drive`` per
    ``drives`` link. With a scorecard's ``objectives`` and ``perspectives`` (id -> score and
    status) each box is coloured by its status and shows its score, each band its own."""
    boxes, band_tops, band_heights = _boxes(plan)
    by_id = {box.id: box for box in boxes}
    height = band_tops[-1] + band_heights[-1] + 10
    parts = [
        "<defs>",
        element(
            "marker",
            {
                "id": "sm-arrow",
                "viewBox": "0 0 10 10",
                "refX": "9",
                "refY": "5",
                "markerWidth": "7",
                "markerHeight": "7",
                "orient": "auto-start-reverse",
            },
            element("path", {"d": "M0,0 L10,5 L0,10 z", "class": "drive-head"}),
        ),
        "</defs>",
    ]
    for band, (perspective, label) in enumerate(PERSPECTIVES):
        top, band_height = band_tops[band], band_heights[band]
        parts.append(
            element(
                "rect",
                {
                    "class": f"band band-{perspective}",
                    "x": "4",
                    "y": fmt(top),
                    "width": fmt(WIDTH - 8),
                    "height": fmt(band_height),
                    "rx": "8",
                },
            )
        )
        label_lines = wrap(_(label), LABEL_WIDTH - 20, 14, 2)
        parts.append(
            text_block(
                label_lines,
                16,
                top + band_height / 2,
                14,
                anchor="start",
                css_class="band-label",
                weight="600",
            )
        )
        if perspectives is not None and perspective in perspectives:
            band_standing = perspectives[perspective]
            parts.append(
                text_block(
                    [_standing_text(band_standing)],
                    16,
                    top + band_height / 2 + 14 * 1.25 * (len(label_lines) - 1) + 20,
                    12,
                    anchor="start",
                    css_class=f"band-score status-{band_standing[1]}",
                )
            )
    for objective in plan.objectives:
        for driven in objective.drives:
            if objective.id in by_id and driven in by_id:
                parts.append(_arrow(by_id[objective.id], by_id[driven]))
    for box in boxes:
        standing = None if objectives is None else objectives.get(box.id)
        colour = "" if standing is None else f" rag-{_COLOUR.get(standing[1], 'grey')}"
        tooltip = box.tooltip if standing is None else f"{box.tooltip} — {_standing_text(standing)}"
        inner = [
            element("title", {}, esc(tooltip)),
            element(
                "rect",
                {
                    "class": f"objective-box horizon-{box.horizon}{colour}",
                    "x": fmt(box.x),
                    "y": fmt(box.y),
                    "width": fmt(box.width),
                    "height": fmt(box.height),
                    "rx": "6",
                },
            ),
        ]
        y = box.y + 8 + TITLE_SIZE
        inner.append(
            text_block(
                box.title, box.centre_x, y, TITLE_SIZE, css_class="objective-name", weight="600"
            )
        )
        y += TITLE_SIZE * 1.25 * len(box.title) + 2
        caption = f"{box.id} · {_(f'{box.horizon} term')}"
        if standing is not None:
            caption += f" · {_standing_text(standing)}"
        inner.append(text_block([caption], box.centre_x, y, 10, css_class="objective-id"))
        y += 16
        lines = list(box.kpis)
        if box.more:
            lines.append(_("+{count} more").format(count=box.more))
        if not lines:
            lines = [_("no KPI serves it")]
        inner.append(
            text_block(
                lines,
                box.x + 8,
                y,
                KPI_SIZE,
                line_height=1.3,
                anchor="start",
                css_class="objective-kpis",
            )
        )
        parts.append(
            element(
                "g",
                {
                    "class": "objective",
                    "data-id": box.id,
                    "data-kpis": str(box.listed + box.more),
                    **({} if standing is None else {"data-status": standing[1]}),
                },
                "".join(inner),
            )
        )
    return element(
        "svg",
        {
            "class": "chart strategy-map",
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {fmt(WIDTH)} {fmt(height)}",
            "role": "img",
            "aria-label": _("Strategy map"),
        },
        "".join(parts),
    )
