"""Lay a ``ReportDocument`` out as a PDF (A4, Chinese, embedded CJK font, page numbers, QR code).

WeasyPrint renders ``templates/report.html`` with the static ``templates/report.css``. The parsed
stylesheet and WeasyPrint's font configuration are built once per thread and reused (WeasyPrint's
font map is not meant to be shared between threads); the Jinja environment is built once per
process. Per-report values reach the running header through ``string-set``, so the stylesheet
never changes.

The font is the system's CJK font, found by family through fontconfig (``fonts-wqy-microhei`` is
installed by the scripts; Noto CJK is the fallback); WeasyPrint embeds the subset of glyphs used.
``cjk_font_file`` refuses to render when no CJK font is installed, rather than print empty boxes.

Speed: one column-width pass in Python gives every table its widths, so WeasyPrint lays tables out
with ``table-layout: fixed``; one face, no bold (a synthetic bold is a second embedded font); borders
drawn per cell edge rather than collapsed; an empty section is its heading and one line (a table of
column headers over "无" costs ~5 ms a section); the QR code is a PNG. A typical two-page general
report takes about 0.08–0.09 s.

The same document gives the same PDF: the creation and modification dates are the report's issue
time and the file identifier is derived from the report number, so a report regenerated from the
same data is byte-identical (a property of this WeasyPrint version and font, not a promise).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from xinyong import clock
from xinyong.errors import DomainError
from xinyong.reports.document import ReportDocument, Section

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Families the stylesheet asks for, in order; the first one installed is embedded.
CJK_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")
_KNOWN_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
            "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十")

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_template = _env.get_template("report.html")
_local = threading.local()


class ReportFontMissing(DomainError):
    """No CJK font is installed: the report would print boxes instead of Chinese (503 — the
    installation is incomplete, the request is fine)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("REPORT_FONT_MISSING", "信用报告暂时无法出具：服务器未安装中文字体（fonts-wqy-microhei 或 "
                         "fonts-noto-cjk），请联系平台运维人员")


@cache
def cjk_font_file() -> str:
    """The file of the CJK font reports embed (located once per process)."""
    for path in _KNOWN_FONT_FILES:
        if Path(path).is_file():
            return path
    if shutil.which("fc-match"):
        for family in CJK_FAMILIES:
            found = subprocess.run(["fc-match", "-f", "%{family}\t%{file}", family], capture_output=True,
                                   text=True, check=False).stdout
            families, _, file = found.partition("\t")
            if family in families.split(",") and Path(file).is_file():
                return file
    raise ReportFontMissing()


@dataclass
class _Renderer:
    """WeasyPrint's font configuration and the parsed stylesheet, for one thread."""

    font_config: Any
    stylesheet: Any


def _renderer() -> _Renderer:
    renderer: _Renderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        cjk_font_file()
        font_config = FontConfiguration()
        stylesheet = CSS(filename=str(TEMPLATES / "report.css"), font_config=font_config)
        renderer = _local.renderer = _Renderer(font_config, stylesheet)
    return renderer


def qr_data_uri(url: str) -> str:
    """The verification URL as a QR code (error correction M): a PNG of one pixel per module, printed
    26 mm wide without interpolation (``image-rendering: pixelated``), so its edges stay sharp. The
    same code as SVG is hundreds of path segments that cost WeasyPrint about 6 ms a report."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=1, border=2)


def _char_width(ch: str) -> float:
    """Advance width in ems in WenQuanYi Micro Hei (rounded up): CJK and full-width forms 1, Latin about half."""
    if ord(ch) >= 0x2E80:
        return 1.0
    if ch.isdigit():
        return 0.55
    if ch.isupper():
        return 0.65
    if ch.islower():
        return 0.55
    return 0.35


def text_width(text: str) -> float:
    """Printed width of ``text`` in ems, roughly."""
    return sum(_char_width(ch) for ch in text)


def _basics_rows(basics: list[tuple[str, str]]) -> list[list[tuple[str, str, int]]]:
    """基础信息 two pairs a row; a long value (e.g. 住所) takes a whole row, as does a lone last pair."""
    rows: list[list[tuple[str, str, int]]] = []
    pending: list[tuple[str, str, int]] = []
    for label, value in basics:
        if text_width(value) > 14:
            if pending:
                rows.append([(pending[0][0], pending[0][1], 3)])
                pending = []
            rows.append([(label, value, 3)])
            continue
        pending.append((label, value, 1))
        if len(pending) == 2:
            rows.append(pending)
            pending = []
    if pending:
        rows.append([(pending[0][0], pending[0][1], 3)])
    return rows


# Section tables are 174 mm wide (A4 less the margins) in 9 pt type, i.e. about 54.8 ems; the 序号
# column takes 6 %. A cell's padding and rule take about one em.
_TABLE_EMS = 54.8 * 0.94
_CELL_PADDING_EMS = 1.0


def column_widths(section: Section) -> list[float]:
    """Column widths in percent of the table, from the text each column holds (deterministic, so the
    table can be laid out with ``table-layout: fixed``, which is much faster than ``auto``).

    Each column wants the width of its typical (90th percentile) cell. When they do not all fit,
    columns of numbers (document numbers, dates, codes) keep their width and the text columns are
    narrowed, the widest first, to a common width (water-filling): only prose wraps.
    """
    natural: list[float] = []
    numeric: list[bool] = []
    for index, header in enumerate(section.columns):
        cells = sorted((text_width(row[index]), row[index]) for row in section.rows if index < len(row))
        typical, text = cells[int(len(cells) * 0.9)] if cells else (0.0, "")
        heading = text_width(header)
        heading = min(heading, max(4.0, heading * 0.6))  # up to four characters on one line, longer ones wrap
        natural.append(min(max(heading, typical, 3.0), 30.0) + _CELL_PADDING_EMS)
        numeric.append(sum(ch.isdigit() for ch in text) >= 3)
    if not natural:
        return []
    if sum(natural) > _TABLE_EMS:
        kept = sum(w for w, n in zip(natural, numeric, strict=True) if n)
        if kept > _TABLE_EMS * 0.6:  # mostly numbers: narrow every column alike
            kept, numeric = 0.0, [False] * len(natural)
        cap = _level([w for w, n in zip(natural, numeric, strict=True) if not n], _TABLE_EMS - kept)
        natural = [w if n else min(w, cap) for w, n in zip(natural, numeric, strict=True)]
    total = sum(natural)
    return [round(94 * width / total, 2) for width in natural]


def _level(widths: list[float], room: float) -> float:
    """The width to which the widest of ``widths`` are cut so that together they take ``room``."""
    cap, remaining = room, len(widths)
    for width in sorted(widths):
        cap = room / remaining
        if width > cap:
            return cap
        room -= width
        remaining -= 1
    return max(widths, default=cap)


def _period(doc: ReportDocument) -> str:
    if doc.period is None:
        return ""
    start, end = doc.period
    return f"{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}"


def _time(value: Any) -> str:
    return clock.local(value).strftime("%Y年%m月%d日 %H:%M:%S")


def html_of(doc: ReportDocument) -> str:
    """The report as HTML (what ``render_pdf`` lays out)."""
    issued = clock.local(doc.issued_at)
    offset = 1 if doc.conclusion else 0
    needed = len(doc.sections) + offset + 1
    numerals = [*NUMERALS, *(str(n) for n in range(len(NUMERALS) + 1, needed + 1))]
    title_main, bracket, rest = doc.title.partition("（")
    return _template.render(
        doc=doc, title_main=title_main, title_sub=bracket + rest,
        qr=qr_data_uri(doc.verify_url) if doc.verify_url else "", issued=_time(doc.issued_at),
        as_of=_time(doc.data_as_of), issued_iso=issued.isoformat(timespec="seconds"), period=_period(doc),
        keywords=[doc.number, "信用报告", "专项信用报告" if doc.kind == "special" else "公共信用信息报告",
                  doc.subject_code],
        code_label="统一社会信用代码" if len(doc.subject_code) == 18 and doc.subject_code.isalnum() else "证件号码",
        basics_rows=_basics_rows(doc.basics), numerals=numerals, offset=offset,
        widths=[column_widths(s) for s in doc.sections])


def render_pdf(doc: ReportDocument) -> bytes:
    """The report as PDF bytes, the CJK font embedded (subset)."""
    from weasyprint import HTML

    renderer = _renderer()
    identifier = hashlib.sha256(f"xinyong-report:{doc.number}".encode()).hexdigest()[:32].encode()
    pdf = HTML(string=html_of(doc), base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[renderer.stylesheet], font_config=renderer.font_config, pdf_identifier=identifier)
    assert pdf is not None
    return pdf
