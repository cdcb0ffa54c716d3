"""Native charts of the reports: titles sized for a printed page, and the bar chart of a table.

A chart draws from the cells of a table on a report sheet, so Excel, WPS and LibreOffice
redraw it when someone corrects a figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.worksheet.worksheet import Worksheet

BAR_BLUE = "5B9BD5"
FLAG_RED = "C00000"


def chart_title(text: str, size: float = 11) -> Title:
    """A chart title in a readable size (the default is large for a printed page)."""
    props = CharacterProperties(sz=int(size * 100), b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props),
                          r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def size(chart: ChartBase, height: float, width: float) -> None:
    """A chart's size in cm on the sheet."""
    chart.height = height
    chart.width = width  # type: ignore[assignment]  # the stubs type width as int; cm take any


def bar_chart(ws: Worksheet, title: str, *, values: int, labels: int, head: int, last: int,
              horizontal: bool = False, top: float | None = None, step: float | None = None,
              colour: str | None = None, flagged: Iterable[int] = (),
              legend: Literal["b", "r"] | None = None) -> BarChart:
    """Bars of column ``values`` labelled by column ``labels``, rows ``head`` + 1 to ``last``.

    The value axis starts at 0 (up to ``top`` in steps of ``step`` when given) and counts
    whole numbers; ``horizontal`` bars run top-down in table order with the value axis at the
    bottom. Bars at the ``flagged`` indexes are red. No legend unless ``legend`` places one.
    """
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = chart_title(title)
    chart.add_data(Reference(ws, min_col=values, min_row=head, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=labels, min_row=head + 1, max_row=last))
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"  # the first row on top
        chart.y_axis.crosses = "max"  # ... and the value axis at the bottom
    chart.y_axis.scaling.min = 0
    if top is not None:
        chart.y_axis.scaling.max = top
    if step is not None:
        chart.y_axis.majorUnit = step
    chart.y_axis.number_format = "0"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if legend is None:
        chart.legend = None
    elif chart.legend is not None:
        chart.legend.position = legend
    series = chart.series[0]
    if colour is not None:
        series.graphicalProperties.solidFill = colour
    for index in flagged:
        point = DataPoint(idx=index)
        point.graphicalProperties.solidFill = FLAG_RED
        series.dPt.append(point)
    return chart


def pareto_chart(ws: Worksheet, title: str, *, counts: int, labels: int, cumulative: int,
                 head: int, last: int, axis_titles: tuple[str, str] | None = None
                 ) -> BarChart:
    """A Pareto chart: bars of column ``counts`` labelled by column ``labels``, with the
    cumulative % of column ``cumulative`` as a red line on a second axis (0–100), legend
    below; rows ``head`` + 1 to ``last``; ``axis_titles`` name the count and % axes."""
    bars = bar_chart(ws, title, values=counts, labels=labels, head=head, last=last,
                     colour=BAR_BLUE, legend="b")
    bars.gapWidth = 40
    line = LineChart()
    line.add_data(Reference(ws, min_col=cumulative, min_row=head, max_row=last),
                  titles_from_data=True)
    line.y_axis.axId = 200
    line.y_axis.scaling.min = 0
    line.y_axis.scaling.max = 100
    line.y_axis.number_format = "0"
    line.y_axis.crosses = "max"
    line.y_axis.delete = False
    series = line.series[0]
    series.marker.symbol = "circle"
    series.graphicalProperties.line.solidFill = FLAG_RED
    series.smooth = False
    if axis_titles is not None:
        bars.y_axis.title, line.y_axis.title = axis_titles
    bars += line
    return bars
