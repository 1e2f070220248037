"""Charts for pages (SVG) and PDFs (PNG), drawn by one library: matplotlib.

Why matplotlib: it is the maintained reference for static charts in Python, draws offline
with no browser or JavaScript, and writes both SVG (pages; text kept as text, so it stays
selectable and small) and PNG (fpdf2 embeds it in the PDFs) from the same figure code, so a
chart on /cong-khai and in the disclosure PDF are the same picture. Every chart is also
given as a table next to it (screen readers, copying figures); the chart itself is marked
decorative for assistive technology by the templates.

Rendering costs ~0.1 s per chart on the development VM, so results are cached by their
(hashable) spec: the same figures never draw twice in a process.

Languages (issue 17): the texts of a spec (title, labels, series) are made by its caller in
the page's language; the axis numbers are drawn here, "1,5 tr" (triệu) in Vietnamese and
"1.5 M" in English, so an SVG is cached per (spec, language). A PNG goes into an official
document (a report PDF) and is always drawn the Vietnamese way. Labels that are the fund's
own data (programme names) can be marked `lang="vi"` (`label_lang`), as the page must say
which language a text is in.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in SVG
matplotlib.rcParams["svg.hashsalt"] = "quy-bao-tro"  # reproducible ids
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

FONT_FILE = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
font_manager.fontManager.addfont(str(FONT_FILE))
FONT_FAMILY = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
# Colour-blind-safe palette (Okabe–Ito), the brand colour first.
PALETTE = ("#0b6e4f", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart: `labels` along one axis, one bar per series for each label.

    Values are whole đồng; the axis shows millions ("tr"). `horizontal` suits long labels
    (programme names)."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    horizontal: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(v for _name, values in self.series for v in values)


def _millions(value, language: str = "vi") -> str:
    millions = value / 1_000_000
    text = f"{millions:,.0f}" if abs(millions) >= 10 or millions == int(millions) else f"{millions:,.1f}"
    if language == "en":
        return f"{text} M"
    return text.replace(",", "X").replace(".", ",").replace("X", ".") + " tr"


#: The SVG group id given to the category labels, replaced by their `lang` afterwards.
_LABEL_GID = "chart-category-label"


def _figure(spec: ChartSpec, language: str = "vi", mark_labels: bool = False) -> Figure:
    rows = len(spec.labels)
    height = max(2.6, 0.42 * rows + 1.2) if spec.horizontal else 3.0
    fig = Figure(figsize=(7.2, height), dpi=100)
    ax = fig.add_subplot()
    n = max(1, len(spec.series))
    width = 0.8 / n
    positions = range(rows)
    for index, (name, values) in enumerate(spec.series):
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        colour = PALETTE[index % len(PALETTE)]
        if spec.horizontal:
            ax.barh(offsets, values, height=width, label=name, color=colour)
        else:
            ax.bar(offsets, values, width=width, label=name, color=colour)
    axis, other = (ax.yaxis, ax.xaxis) if spec.horizontal else (ax.xaxis, ax.yaxis)
    axis.set_ticks(list(positions))
    ticks = axis.set_ticklabels([_wrap(label) for label in spec.labels], fontfamily=FONT_FAMILY, fontsize=8)
    if mark_labels:
        for tick in ticks:
            tick.set_gid(_LABEL_GID)
    other.set_major_formatter(FuncFormatter(lambda value, _pos: _millions(value, language)))
    for label in other.get_ticklabels():
        label.set_fontfamily(FONT_FAMILY)
        label.set_fontsize(8)
    if spec.horizontal:
        ax.invert_yaxis()
    ax.grid(axis="x" if spec.horizontal else "y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(spec.title, fontfamily=FONT_FAMILY, fontsize=10, loc="left")
    if len(spec.series) > 1:
        if spec.horizontal:  # below the axes: inside, it covers the bars of long label lists
            ax.legend(prop={"family": FONT_FAMILY, "size": 8}, frameon=False, loc="upper center",
                      bbox_to_anchor=(0.5, -0.12), ncol=len(spec.series))
        else:
            ax.legend(prop={"family": FONT_FAMILY, "size": 8}, frameon=False)
    fig.tight_layout()
    return fig


def _wrap(label: str, width: int = 28) -> str:
    words, lines, current = label.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    return "\n".join(lines[:3])


def svg(spec: ChartSpec, language: str = "vi", label_lang: str | None = None) -> str:
    """The chart as an inline-able <svg> element (no XML prolog, no fixed pixel size), its
    axis numbers in `language`, the page's (`app.i18n.current()`: renderers know nothing of
    Flask). `label_lang` ("vi"): the category labels are the fund's data in that language
    (programme names), marked so."""
    return _svg(spec, language, label_lang)


@lru_cache(maxsize=256)
def _svg(spec: ChartSpec, language: str, label_lang: str | None) -> str:
    buffer = io.StringIO()
    fig = _figure(spec, language, mark_labels=label_lang is not None)
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    # A strict Content-Security-Policy refuses inline CSS, also inside an inline SVG: the
    # <style> element and style="" attributes become SVG presentation attributes.
    text = re.sub(r"<style[^>]*>.*?</style>\s*", "", text, flags=re.S)
    text = _STYLE_ATTRIBUTE.sub(_presentation_attributes, text)
    # Structural ids ("figure_1", "patch_3"…) would repeat across the charts of one page.
    text = re.sub(r' id="(?:figure|axes|patch|matplotlib\.axis|xtick|ytick|line2d|text|legend|'
                  r'bar|BarContainer)_\d+"', "", text)
    if label_lang is not None:
        text = text.replace(f'<g id="{_LABEL_GID}">', f'<g lang="{label_lang}">')
    # The ids left (tick markers, clip paths) are the same in every chart with the same
    # salt: prefix them, and their references, with one derived from the chart itself.
    prefix = "c" + hashlib.sha1(repr(spec).encode()).hexdigest()[:8] + "-"
    text = re.sub(r'( id="|href="#|url\(#)([^"()]+)', lambda m: m.group(1) + prefix + m.group(2), text)
    # Scale with its container: keep the viewBox, drop the fixed size.
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
                  r'<svg\1 class="chart-svg" stroke-linejoin="round" stroke-linecap="butt"'
                  r' aria-hidden="true" focusable="false"', text, count=1)
    return text


_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
_PRESENTATION = {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-linecap",
                 "stroke-linejoin", "stroke-opacity", "stroke-dasharray", "stroke-dashoffset",
                 "stroke-miterlimit", "opacity", "font-size", "font-family", "font-weight",
                 "font-style", "text-anchor", "clip-path"}


def _presentation_attributes(match: re.Match) -> str:
    parts = []
    for declaration in match.group(1).split(";"):
        if ":" not in declaration:
            continue
        name, value = (piece.strip() for piece in declaration.split(":", 1))
        if name in _PRESENTATION:
            parts.append(f'{name}="{value.replace(chr(34), chr(39))}"')
    return " ".join(parts)


@lru_cache(maxsize=64)
def png(spec: ChartSpec, dpi: int = 200) -> bytes:
    """The chart for a report PDF: an official document, so always drawn in Vietnamese."""
    buffer = io.BytesIO()
    _figure(spec, "vi").savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
