"""
Bar charts drawn on the server as SVG: no script, no style sheet of their own, no font or
file from elsewhere, only presentation attributes (fill, font-size), so that a page keeps
its Content-Security-Policy without 'unsafe-inline'. Colours follow the page's text colour
(currentColor). Each chart has a title and a description for screen readers, and the page
shows its numbers as a table too (templates/cooperation/includes/chart.html).

pygal was the obvious library, but its charts embed a <style> block and load a tooltip
script from a CDN; turning both off leaves little of it that these two charts need.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH = 640
BAR_ROW = 22  # Height of one bar of a horizontal chart, with its gap.
LABEL_WIDTH = 220  # Room for the labels of a horizontal chart.
COLUMN_HEIGHT = 160  # Height of the tallest bar of a vertical chart.
FONT_SIZE = 13


@dataclass
class Bar:
    label: str
    value: int
    url: str = ""


@dataclass
class Chart:
    """A chart's words and numbers; `svg` draws it."""

    slug: str
    title: str
    description: str
    bars: list
    horizontal: bool = False
    value_heading: str = "Activities"
    label_heading: str = ""

    @property
    def svg(self):
        return horizontal_bars(self) if self.horizontal else vertical_bars(self)


def frame(chart, height, body):
    title_id, desc_id = f"{chart.slug}-title", f"{chart.slug}-desc"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" '
        'width="100%" role="img" aria-labelledby="{} {}" font-family="sans-serif" '
        'font-size="{}" fill="currentColor">'
        '<title id="{}">{}</title><desc id="{}">{}</desc>{}</svg>',
        WIDTH,
        height,
        title_id,
        desc_id,
        FONT_SIZE,
        title_id,
        chart.title,
        desc_id,
        chart.description,
        body,
    )


def linked(bar, shape):
    if not bar.url:
        return shape
    return format_html('<a href="{}">{}</a>', bar.url, shape)


def horizontal_bars(chart):
    """One row a bar: its label on the left, the bar, its number at the bar's end."""
    top = max((bar.value for bar in chart.bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60
    rows = []
    for index, bar in enumerate(chart.bars):
        y = index * BAR_ROW
        length = max(1, round(bar.value / top * room)) if bar.value else 0
        label = bar.label if len(bar.label) <= 32 else f"{bar.label[:31]}…"
        rows.append(
            linked(
                bar,
                format_html(
                    '<text x="{}" y="{}" text-anchor="end">{}</text>'
                    '<rect x="{}" y="{}" width="{}" height="{}" opacity="0.75"></rect>'
                    '<text x="{}" y="{}">{}</text>',
                    LABEL_WIDTH - 8,
                    y + 15,
                    label,
                    LABEL_WIDTH,
                    y + 3,
                    length,
                    BAR_ROW - 6,
                    LABEL_WIDTH + length + 6,
                    y + 15,
                    f"{bar.value:,}",
                ),
            )
        )
    height = max(BAR_ROW, len(chart.bars) * BAR_ROW)
    return frame(chart, height, mark_safe("".join(rows)))


def vertical_bars(chart):
    """One column a bar, left to right; every fifth label under its column at most."""
    top = max((bar.value for bar in chart.bars), default=0) or 1
    count = max(1, len(chart.bars))
    slot = (WIDTH - 20) / count
    every = max(1, -(-count // 12))
    columns = []
    for index, bar in enumerate(chart.bars):
        x = 10 + index * slot
        length = round(bar.value / top * COLUMN_HEIGHT) if bar.value else 0
        shape = format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" opacity="0.75">'
            "<title>{}: {}</title></rect>",
            f"{x + slot * 0.1:.1f}",
            20 + COLUMN_HEIGHT - length,
            f"{slot * 0.8:.1f}",
            length,
            bar.label,
            f"{bar.value:,}",
        )
        if index % every == 0:
            shape = format_html(
                '{}<text x="{}" y="{}" text-anchor="middle">{}</text>',
                shape,
                f"{x + slot / 2:.1f}",
                COLUMN_HEIGHT + 38,
                bar.label,
            )
        columns.append(linked(bar, shape))
    scale = format_html(
        '<text x="10" y="12">{}</text>'
        '<line x1="10" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-width="1"></line>',
        f"highest: {top:,}",
        20 + COLUMN_HEIGHT,
        WIDTH - 10,
        20 + COLUMN_HEIGHT,
    )
    body = format_html("{}{}", scale, format_html_join("", "{}", ((c,) for c in columns)))
    return frame(chart, COLUMN_HEIGHT + 44, body)


def by_start_year(facet, base=""):
    """
    Activities by start year, earliest first, from the start-year facet's counts; each bar
    links to the activity list at `base` filtered to its year.
    """
    bars = [
        Bar(option.label, option.count, base + option.url) for option in reversed(facet.everything)
    ]
    return Chart(
        slug="chart-years",
        title="Activities by start year",
        description=summary(bars, "year"),
        bars=bars,
        label_heading="Start year",
    )


def by_area(facet, base=""):
    """Activities by area, most first, from the area facet's counts (see by_start_year)."""
    bars = [Bar(option.label, option.count, base + option.url) for option in facet.everything]
    return Chart(
        slug="chart-areas",
        title="Activities by area",
        description=summary(bars, "area"),
        bars=bars,
        horizontal=True,
        label_heading="Area",
    )


def summary(bars, noun):
    if not bars:
        return "No activity to chart."
    most = max(bars, key=lambda bar: bar.value)
    return (
        f"{len(bars)} bars, one for each {noun}; the most activities, {most.value:,}, "
        f"for {most.label}. The same numbers follow as a table."
    )
