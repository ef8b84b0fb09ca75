"""A value report as people read it, from the data of one run (reports.report_data) alone:
an HTML document from Django templates with its charts as SVG images drawn by matplotlib
(no browser), a PDF of that same HTML (WeasyPrint), and a CSV of every initiative.

The HTML comes in two forms from one template and one stylesheet (static/css/report.css):
a standalone document with the stylesheet inline (the HTML file, the e-mail body, the PDF)
and the bare `<article>` the run page includes, styled by the same file as a static asset
(the app's CSP allows no inline style). Charts are `data:` URIs, which the CSP allows for
images and WeasyPrint reads without a network.

The e-mail body is the standalone document with its charts as PNG images carried in the
message itself (`cid:` references, see `render_html(images=...)`): mail clients such as
Gmail and Outlook show neither SVG nor `data:` images.
"""

import base64
import csv
import io
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.mime.image import MIMEImage
from functools import partial
from typing import Any

from django.contrib.staticfiles import finders
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from initiatives.models import Horizon, Kind, Status
from initiatives.views import percent_text

# compact_money ("€1.2M") is the dashboard's; the module is imported whole so that a view
# there may import this module in turn without a circular import failing.
from reports import views as dashboard_views
from reports.report_data import SECTIONS
from strategy.views import PACE_LABELS, number, with_unit

Json = dict[str, Any]

STYLESHEET = "css/report.css"
TEMPLATE = "reports/report/document.html"
CHART_BARS = 15  # bars in a chart; the tables below it have more rows, the CSV all
CHART_LABEL = 42  # characters of a title on a chart's axis
EMAIL_CHART_WIDTH = 672  # CSS pixels: the stylesheet's max-width of a chart (42rem)
MAX_DEPTH_CLASS = 4  # objective indentation steps the stylesheet knows

# --- figures in words -------------------------------------------------------------------------


def shown(text: str | None, why: str = "") -> str:
    """A figure as the report prints it: its text, or "—" with a word of why there is none."""
    if text is not None:
        return text
    if not why:
        return "—"
    return format_html('— <span class="report__why">({})</span>', why)


def _decimal(value: str | int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _money_text(value: str | None, currency: str) -> str | None:
    amount = _decimal(value)
    return None if amount is None else dashboard_views.compact_money(amount, currency)


def _percent_text(value: str | None) -> str | None:
    share = _decimal(value)
    return None if share is None else percent_text(share)


def day(value: str | date | None) -> str:
    """3 March 2026 (the month in English whatever the locale: the report is in English)."""
    if value is None:
        return "—"
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def days_between(start: str, end: str) -> str:
    """between 1 July and 30 September 2026 (the year once when both share it)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if first == last:
        return f"on {day(first)}"
    shown = f"{first.day} {_MONTHS[first.month - 1]}" if first.year == last.year else day(first)
    return f"between {shown} and {day(last)}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _label(choices: Any, value: str | None) -> str:
    """The label of a stored choice ("In delivery"); an unknown one as it is."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _more(count: int, shown: int, where: str) -> str:
    rest = count - shown
    return f"and {rest} more — {where}" if rest > 0 else ""


# --- the sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineImage:
    """A chart carried in an e-mail, which its HTML shows as `cid:<content_id>`."""

    content_id: str
    png: bytes


@dataclass(frozen=True)
class _Report:
    """What every section reads besides its own data."""

    currency: str
    period: str  # "between 1 July and 30 September 2026"
    as_of: str  # "30 September 2026"
    # Where charts go as PNG images for an e-mail; None: SVG `data:` URIs in the document.
    images: list[InlineImage] | None = field(default=None)

    def money(self, value: str | None) -> str | None:
        return _money_text(value, self.currency)

    def chart(self, draw: Callable[[str], bytes], *, alt: str, note: str = "") -> "Chart":
        """The chart that `draw(format)` renders: an SVG `data:` URI, or for an e-mail a PNG
        added to `images`, with a width in pixels for mail clients that ignore the
        stylesheet (Outlook's)."""
        if self.images is None:
            return Chart(src=_data_uri(draw("svg")), alt=alt, note=note)
        content_id = f"chart-{len(self.images) + 1}@pm-value"
        self.images.append(InlineImage(content_id, draw("png")))
        return Chart(src=f"cid:{content_id}", alt=alt, note=note, width=EMAIL_CHART_WIDTH)


def _headline(head: Json, r: _Report, released: Json) -> Json:
    n = head["realized_initiatives"]
    total = released["count"]
    realized = r.money(head["realized_in_period"])
    if realized is not None:
        whose = (
            f"the {_plural(n, 'initiative')} released {r.period}"
            if n == total
            else f"{n} of the {_plural(total, 'initiative')} released {r.period}"
        )
        detail = []
        if head["measured_in_period"]:
            detail.append(f"{head['measured_in_period']} measured")
        if head["measuring_in_period"]:
            detail.append(f"{head['measuring_in_period']} still measuring")
        realized_words = f"realized from {whose}" + (f" ({', '.join(detail)})" if detail else "")
    elif total:
        realized_words = (
            f"nothing realized yet from the {_plural(total, 'initiative')} released {r.period}: "
            "their metrics have no data after the release yet, or no value per unit"
        )
    else:
        realized_words = f"nothing was released {r.period}"
    counts = head["counts_by_status"]
    ideas = head["declined_ideas"]
    return {
        "realized_amount": realized or "",
        "realized_words": realized_words,
        "pipeline_amount": r.money(head["pipeline_value"]) or "",
        "alignment_percent": _percent_text(head["alignment_score"]) or "",
        "realized_to_date": shown(r.money(head["realized_to_date"]), "no realized value yet"),
        "in_delivery": counts.get(Status.IN_DELIVERY, 0),
        "committed": counts.get(Status.COMMITTED, 0),
        "committed_effort": _weeks(_decimal(head["committed_effort_weeks"])),
        "tactical_share": shown(_percent_text(head["tactical_share"]), "nothing committed"),
        "declined": head["declined_initiatives"],
        "declined_ideas": ideas,
    }


def _weeks(effort: Decimal | None) -> str:
    if effort is None:
        return "no estimate of the effort"
    return f"{number(effort)} week{'' if effort == 1 else 's'} of effort"


def _key_result(kr: Json) -> Json:
    unit = kr["unit"] or ""
    progress = _decimal(kr["progress"])
    due = f"due {day(kr['due_on'])}" if kr["due_on"] else "no due date"
    span = (
        f"from {with_unit(number(_decimal(kr['baseline'])), unit)} "
        f"to {with_unit(number(_decimal(kr['target'])), unit)}"
    )
    if progress is None:
        words = f"no measurement in its window yet ({span}, {due})"
    else:
        now = with_unit(number(_decimal(kr["current"])), unit)
        expected = _percent_text(kr["expected_progress"]) or "—"
        words = (
            f"{percent_text(progress)} of the way {span} (now {now}); "
            f"{expected} expected by now, {due}"
        )
    return {"title": kr["title"], "pace": PACE_LABELS.get(kr["pace"], kr["pace"]), "words": words}


def _objectives(data: Json, r: _Report) -> Json:
    rows = [
        {
            "title": o["title"],
            "status": "" if o["status"] == "active" else o["status"],
            "depth": min(o["depth"], MAX_DEPTH_CLASS),
            "value": shown(r.money(o["value_delivered"]), "nothing released yet"),
            "initiatives": o["initiatives"],
            "key_results": [_key_result(kr) for kr in o["key_results"]],
        }
        for o in data["rows"]
    ]
    top = [o for o in data["rows"] if o["depth"] == 0]
    return {
        "rows": rows,
        "chart": _objectives_chart(top, r),
        "more": _more(
            data.get("count", len(rows)),
            len(rows),
            "the strategy page has every objective",
        ),
    }


def _who(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _released(data: Json, r: _Report) -> Json:
    rows = []
    for s in data["rows"]:
        no_money = "no value per unit"
        rows.append(
            {
                "title": s["title"],
                "who": _who(s["team"], s["owner"]),
                "released_on": day(s["released_on"]),
                "status": "Measured"
                if s["status"] == Status.MEASURED
                else "Released, still measuring",
                "expected": shown(r.money(s["expected_value"]), no_money),
                "risk_adjusted": shown(r.money(s["risk_adjusted_value"]), no_money),
                "realized": shown(
                    r.money(s["realized_value"]),
                    no_money if s["expected_value"] is None else "no data after the release yet",
                ),
                "realization": shown(_percent_text(s["realization"])),
            }
        )
    return {
        "count": data["count"],
        "measured": data["measured"],
        "rows": rows,
        "more": _more(data["count"], len(rows), "the CSV has every initiative"),
        "chart": _released_chart(data, r),
    }


def _next(data: Json, r: _Report) -> Json:
    rows = []
    for i in data["rows"]:
        effort = _decimal(i["effort_weeks"])
        density = r.money(i["value_density"])
        rows.append(
            {
                "title": i["title"],
                "who": _who(i["team"], i["owner"]),
                "status": _label(Status, i["status"]),
                "target_on": shown(i["target_on"] and day(i["target_on"]), "none set"),
                "effort": shown(None if effort is None else f"{number(effort)} wk", "no estimate"),
                "confidence": f"{i['confidence']}%",
                "risk_adjusted": shown(r.money(i["risk_adjusted_value"]), "no value per unit"),
                "density": shown(density and f"{density}/wk"),
            }
        )
    return {
        "count": data["count"],
        "rows": rows,
        "more": _more(data["count"], len(rows), "the CSV has every initiative"),
    }


def _not_doing(data: Json, r: _Report) -> Json:
    rows = [
        {
            "title": d["title"],
            "idea": d["kind"] == "idea",
            "decision": d["decision"],
            "rationale": d["rationale"] or "No reason was recorded.",
            "decided": " by ".join(p for p in (day(d["decided_on"]), d["decided_by"]) if p),
            "revisit_on": day(d["revisit_on"]) if d["revisit_on"] else "No revisit date",
        }
        for d in data["rows"]
    ]
    return {
        "count": data["count"],
        "rows": rows,
        "more": _more(data["count"], len(rows), "the Not doing page lists every one"),
    }


def _experiment_days(e: Json) -> str:
    if e["ended_on"] and e["started_on"]:
        return f"{day(e['started_on'])} – {day(e['ended_on'])}"
    if e["ended_on"]:
        return f"ended {day(e['ended_on'])}"
    return f"running since {day(e['started_on'])}" if e["started_on"] else "not started"


def _learnings(e: Json) -> str:
    if e["learnings"]:
        return str(e["learnings"])
    if not e["ended_on"]:
        return "Still running."
    return "No learnings recorded."


def _experiments(data: Json, r: _Report) -> Json:
    rows = [
        {
            "initiative": e["initiative"],
            "hypothesis": e["hypothesis"],
            "method": e["method"],
            "result": e["result"],
            "learnings": _learnings(e),
            "days": _experiment_days(e),
        }
        for e in data["rows"]
    ]
    return {
        "count": data["count"],
        "rows": rows,
        "more": _more(data["count"], len(rows), "each initiative's page lists its experiments"),
    }


def _at_risk(data: Json, r: _Report) -> Json:
    rows = [
        {
            "title": a["title"],
            "status": _label(Status, a["status"]),
            "team": a["team"],
            "reasons": a["reasons"],
        }
        for a in data["rows"]
    ]
    return {
        "count": data["count"],
        "rows": rows,
        "more": _more(data["count"], len(rows), "the CSV has every initiative"),
    }


# --- charts -------------------------------------------------------------------------------------

# rcParams are process-wide: one chart at a time holds them (a report draws two).
_CHART_LOCK = threading.Lock()
_CHART_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text as <text>, no glyph outlines: a few kB per chart
    "svg.hashsalt": "pm-value-report",  # the same data draws the same file
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": "#5b6475",
    "axes.linewidth": 0.8,
    "xtick.color": "#5b6475",
    "ytick.color": "#111827",
}
EXPECTED_COLOUR = "#c7cdf5"
REALIZED_COLOUR = "#4338ca"
DELIVERED_COLOUR = "#047857"


@dataclass(frozen=True)
class Chart:
    src: str  # a data: URI, or cid: in an e-mail
    alt: str
    note: str = ""
    width: int | None = None  # CSS pixels, for an e-mail


@dataclass(frozen=True)
class _Series:
    name: str
    values: Sequence[Decimal | None]
    labels: Sequence[str]
    colour: str
    hatch: str = ""


def _short(title: str) -> str:
    return title if len(title) <= CHART_LABEL else title[: CHART_LABEL - 1].rstrip() + "…"


def _bars(fmt: str, *, titles: Sequence[str], series: Sequence[_Series], currency: str) -> bytes:
    """Horizontal bars, the first title on top, each bar labelled with its text so the chart
    reads without colour; an SVG document or (`fmt` "png") a PNG image at twice the pixels
    of the screen, sharp on high-density displays."""
    n = len(titles)
    per_title = 0.22 * len(series) + 0.18
    with _CHART_LOCK, rc_context(_CHART_RC):
        figure = Figure(figsize=(7.2, 0.75 + per_title * n), layout="constrained")
        ax = figure.add_subplot()
        height = 0.8 / len(series)
        numbers = [float(v) for s in series for v in s.values if v is not None] or [0.0]
        low, high = min(0.0, *numbers), max(0.0, *numbers)
        reach = (high - low) or 1.0
        for k, s in enumerate(series):
            positions = [i + (k - (len(series) - 1) / 2) * height for i in range(n)]
            widths = [0.0 if v is None else float(v) for v in s.values]
            ax.barh(
                positions,
                widths,
                height=height * 0.92,
                color=s.colour,
                hatch=s.hatch or None,
                edgecolor="#111827" if s.hatch else s.colour,
                linewidth=0.4,
                label=s.name,
            )
            for y, width, text in zip(positions, widths, s.labels, strict=True):
                ax.text(
                    width + (reach * 0.01 if width >= 0 else -reach * 0.01),
                    y,
                    text,
                    va="center",
                    ha="left" if width >= 0 else "right",
                    fontsize=8,
                    parse_math=False,
                )
        ax.set_yticks(range(n), [_short(t) for t in titles], parse_math=False)
        ax.invert_yaxis()
        # room for the labels at the ends of the bars
        ax.set_xlim(low - (reach * 0.3 if low < 0 else 0), high + reach * 0.3)
        ax.axvline(0, color="#5b6475", linewidth=0.8)
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda x, _: dashboard_views.compact_money(Decimal(f"{x:.2f}"), currency))
        )
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if len(series) > 1:
            # above the bars, where it covers none of them
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=len(series), frameon=False)
        buffer = io.BytesIO()
        if fmt == "svg":
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            figure.savefig(buffer, format="png", dpi=144, metadata={"Software": None})
    return buffer.getvalue()


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _released_chart(data: Json, r: _Report) -> Chart | None:
    rows = data["rows"][:CHART_BARS]
    if not rows:
        return None
    expected_text = [r.money(s["expected_value"]) or "no value per unit" for s in rows]
    realized_text = []
    for s in rows:
        realized = r.money(s["realized_value"])
        realization = _percent_text(s["realization"])
        realized_text.append(
            "no data yet"
            if realized is None
            else f"{realized} ({realization})"
            if realization is not None
            else realized
        )
    draw = partial(
        _bars,
        titles=[s["title"] for s in rows],
        series=[
            _Series(
                "Expected",
                [_decimal(s["expected_value"]) for s in rows],
                expected_text,
                EXPECTED_COLOUR,
                "//",
            ),
            _Series(
                "Realized",
                [_decimal(s["realized_value"]) for s in rows],
                realized_text,
                REALIZED_COLOUR,
            ),
        ],
        currency=r.currency,
    )
    capped = data["count"] > len(rows)
    which = (
        f"the {len(rows)} with the most realized value of the {data['count']} initiatives"
        if capped
        else f"the {_plural(len(rows), 'initiative')}"
    )
    figures = "; ".join(
        f"{s['title']}: expected {e}, realized {z}"
        for s, e, z in zip(rows, expected_text, realized_text, strict=True)
    )
    return r.chart(
        draw,
        alt=f"Expected and realized value of {which} released {r.period}, as of {r.as_of}: "
        f"{figures}.",
        note=f"The {len(rows)} with the most realized value of {data['count']}." if capped else "",
    )


def _objectives_chart(top: list[Json], r: _Report) -> Chart | None:
    valued = sorted(
        (o for o in top if o["value_delivered"] is not None),
        key=lambda o: -Decimal(o["value_delivered"]),
    )
    if not valued:
        return None
    bars = valued[:CHART_BARS]
    texts = [r.money(o["value_delivered"]) or "" for o in bars]
    draw = partial(
        _bars,
        titles=[o["title"] for o in bars],
        series=[
            _Series(
                "Value delivered",
                [_decimal(o["value_delivered"]) for o in bars],
                texts,
                DELIVERED_COLOUR,
            )
        ],
        currency=r.currency,
    )
    figures = "; ".join(f"{o['title']}: {t}" for o, t in zip(bars, texts, strict=True))
    left_out = len(top) - len(bars)
    rest = (
        f"{_plural(left_out, 'other top-level objective')}, with less or nothing delivered yet, "
        f"{'is' if left_out == 1 else 'are'} not shown."
    )
    return r.chart(
        draw,
        alt=f"Value delivered as of {r.as_of} per top-level objective: {figures}."
        + (f" {rest}" if left_out else ""),
        note=rest if left_out else "",
    )


# --- the document -------------------------------------------------------------------------------

_SECTIONS: dict[str, Callable[[Json, _Report], Json]] = {
    "objectives": _objectives,
    "released": _released,
    "next": _next,
    "not_doing": _not_doing,
    "experiments": _experiments,
    "at_risk": _at_risk,
}


def _scope_words(scope: Json | None) -> str:
    parts = []
    if scope and scope.get("team"):
        parts.append(f"team {scope['team']['name']}")
    if scope and scope.get("objective"):
        parts.append(f"objective “{scope['objective']['title']}”")
    return " within ".join(parts) if parts else "the whole workspace"


def stylesheet() -> str:
    """The report's one stylesheet, read from the static files (also served as a file)."""
    path = finders.find(STYLESHEET)
    if not isinstance(path, str):
        raise FileNotFoundError(f"static file {STYLESHEET} not found")
    with open(path, encoding="utf-8") as f:
        return f.read()


def render_html(
    *,
    data: Json,
    title: str,
    standalone: bool = True,
    images: list[InlineImage] | None = None,
) -> str:
    """The report as HTML: a whole document with its stylesheet inline (`standalone`), or
    the `<article>` a page includes (no inline style: the page links static/css/report.css).
    With `images` (a list, for an e-mail), the charts are PNGs appended to it and shown by
    `cid:` reference."""
    r = _Report(
        currency=data["currency"],
        period=days_between(data["period"]["start"], data["period"]["end"]),
        as_of=day(data["as_of"]),
        images=images,
    )
    sections = []
    # In the order the report reads, whatever order the stored JSON kept its keys in
    # (PostgreSQL's jsonb keeps the shortest first).
    order = {key: n for n, (key, _, _) in enumerate(SECTIONS)}
    for key, section_title in sorted(
        data["sections"].items(), key=lambda item: order.get(item[0], len(order))
    ):
        if key == "headline":
            body = _headline(data[key], r, data["released"])
        elif key in _SECTIONS:
            body = _SECTIONS[key](data[key], r)
        else:  # the initiatives table is the CSV's
            continue
        sections.append(
            {
                "key": key,
                "title": section_title,
                "template": f"reports/report/_{key}.html",
                "s": body,
            }
        )
    context = {
        "title": title,
        "standalone": standalone,
        # our own file, not user input: a <style> element's text is not HTML-escaped
        "css": mark_safe(stylesheet()) if standalone else "",  # noqa: S308
        "workspace": data["workspace"],
        "scope_words": _scope_words(data.get("scope")),
        "period": r.period,
        "as_of": r.as_of,
        "sections": sections,
        "initiatives_count": len(data.get("initiatives", {}).get("rows", [])),
    }
    return render_to_string(TEMPLATE, context)


# --- e-mail -------------------------------------------------------------------------------------


class ReportEmail(EmailMultiAlternatives):
    """A report e-mail whose HTML shows its charts from images carried in the message:

        multipart/mixed
          multipart/related
            multipart/alternative (text/plain, text/html)
            image/png, Content-ID <chart-1@pm-value>, ...
          application/pdf, text/csv (the attachments)

    the structure mail clients expect for inline images (RFC 2387)."""

    def __init__(self, *args: Any, images: Sequence[InlineImage] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.images = list(images)

    def _create_alternatives(self, msg: Any) -> Any:
        alternatives = super()._create_alternatives(msg)  # type: ignore[misc]  # not in the stubs
        if not self.images:
            return alternatives
        related = SafeMIMEMultipart(
            _subtype="related", encoding=self.encoding, type="multipart/alternative"
        )
        related.attach(alternatives)
        for image in self.images:
            part = MIMEImage(image.png, "png")
            part.add_header("Content-ID", f"<{image.content_id}>")
            part.add_header(
                "Content-Disposition", "inline", filename=image.content_id.split("@")[0] + ".png"
            )
            related.attach(part)
        return related


# --- PDF ----------------------------------------------------------------------------------------


def render_pdf(html: str) -> bytes:
    """The standalone HTML as an A4 PDF (the page rules are in the stylesheet). Nothing is
    fetched from a network or the disk: only data: URIs (the charts) are read."""
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)
    pdf = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # noqa: S101 — write_pdf without a target returns the bytes
    return bytes(pdf)


# --- CSV ----------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV
# injection"); a leading ' makes it text. Numbers we write ourselves from decimals are not
# touched, so a negative realized value stays a number; anything else that starts so is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def neutralised(text: str) -> str:
    """Text a spreadsheet shows as it is, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: Any) -> str:
    return "" if value is None else neutralised(str(value))


def _number(value: Any, places: Decimal | None = None, scale: int = 1) -> str:
    """A decimal as a spreadsheet reads a number (no thousands separator); a value that is
    not a finite number is written as neutralised text."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value) * scale
    except (InvalidOperation, TypeError, ValueError):
        return _text(value)
    if not amount.is_finite():
        return _text(value)
    if places is not None:
        amount = amount.quantize(places, rounding=ROUND_HALF_UP)
    return f"{amount.normalize() if places is None else amount:f}"


def _csv_columns(currency: str) -> list[tuple[str, Callable[[Json], str]]]:
    return [
        ("Id", lambda i: _number(i["id"])),
        ("Title", lambda i: _text(i["title"])),
        ("Status", lambda i: _text(_label(Status, i["status"]))),
        ("Kind", lambda i: _text(_label(Kind, i["kind"]))),
        ("Team", lambda i: _text(i["team"])),
        ("Owner", lambda i: _text(i["owner"])),
        ("Horizon", lambda i: _text(_label(Horizon, i["horizon"]))),
        ("Effort (weeks)", lambda i: _number(i["effort_weeks"])),
        ("Confidence (%)", lambda i: _number(i["confidence"])),
        ("Target date", lambda i: _text(i["target_on"])),
        ("Released on", lambda i: _text(i["released_on"])),
        (f"Risk-adjusted value ({currency})", lambda i: _number(i["risk_adjusted_value"], CENT)),
        (f"Value density ({currency}/week)", lambda i: _number(i["value_density"], CENT)),
        (f"Expected value ({currency})", lambda i: _number(i["expected_value"], CENT)),
        (f"Realized value ({currency})", lambda i: _number(i["realized_value"], CENT)),
        ("Realization (%)", lambda i: _number(i["realization"], TENTH, scale=100)),
    ]


def render_csv(data: Json) -> str:
    """Every initiative of the report, one row each under a header in words; text with a
    byte order mark first, so that Excel reads the file (encoded as UTF-8) as UTF-8."""
    columns = _csv_columns(neutralised(str(data["currency"])))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header for header, _ in columns)
    writer.writerows(_cells(columns, data["initiatives"]["rows"]))
    return out.getvalue()


def _cells(
    columns: list[tuple[str, Callable[[Json], str]]], rows: Iterable[Json]
) -> Iterable[list[str]]:
    cells = [cell for _, cell in columns]
    for row in rows:
        yield [cell(row) for cell in cells]
