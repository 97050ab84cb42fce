"""The printed report: a real PDF, Chinese text that extracts, the CJK font embedded, page numbers,
table headers repeated on every page, metadata, the verification URL and QR code.

Text is extracted with pyHanko's PDF reader (already a dependency for signing) and the fonts'
ToUnicode maps, so the checks read what a PDF viewer would show, not the HTML behind it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from datetime import date, datetime
from io import BytesIO
from typing import Any

import pytest
import segno
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from xinyong import clock
from xinyong.reports import render
from xinyong.reports.document import ReportDocument, Section

NUMBER = "XYBG3201002026000123"
VERIFY_URL = f"https://credit.example.gov.cn/verify?number={NUMBER}"
ISSUED = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
PENALTY_HEADERS = ["决定书文号", "违法行为类型", "处罚内容", "处罚机关", "决定日期", "公示截止"]


def penalty_rows(count: int) -> list[list[str]]:
    return [[f"宁玄市监处罚〔2026〕{i + 1}号", "虚假宣传", f"罚款{i % 9 + 1}万元", "南京市玄武区市场监督管理局",
              "2026-01-05", "2027-01-04"] for i in range(count)]


def a_document(rows: int = 12, **changes: Any) -> ReportDocument:
    doc = ReportDocument(
        number=NUMBER, kind="general", title="公共信用信息报告（企业版）", platform_name="南京市公共信用信息平台",
        issued_at=ISSUED, data_as_of=ISSUED, subject_name="南京示范科技有限公司", subject_code="91320102MA1XY0Q0X1",
        basics=[("名称", "南京示范科技有限公司"), ("统一社会信用代码", "91320102MA1XY0Q0X1"), ("主体类型", "企业法人"),
                ("法定代表人", "王五"), ("住所", "南京市玄武区中山路100号示范大厦12层1201室")],
        sections=[Section("行政许可信息", ["许可决定文书号", "许可内容", "许可机关"],
                          [["苏食许可〔2025〕12号", "食品经营许可", "南京市玄武区市场监督管理局"]]),
                  Section("行政处罚信息", PENALTY_HEADERS, penalty_rows(rows)),
                  Section("守信激励对象名单信息", ["名单名称", "认定文书号"], [])],
        verify_url=VERIFY_URL, notes=["本报告信息来源于南京市公共信用信息平台依法归集的公共信用信息。"])
    return replace(doc, **changes)


# --- reading a PDF back -----------------------------------------------------------------------------

_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_TEXT_OPS = re.compile(rb"/([^\s/]+)\s+[\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(ET)")


def _cmap(stream: Any) -> dict[int, str]:
    """A font's ToUnicode map: glyph code -> text (bfchar and bfrange entries)."""
    data = stream.data
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        codes = _HEX.findall(block)
        for code, text in zip(codes[::2], codes[1::2], strict=True):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


class Pdf:
    """The parts of a rendered PDF the tests look at."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reader = PdfFileReader(BytesIO(data))
        self.info = {str(k): str(v) for k, v in self.reader.trailer["/Info"].items()}
        self.pages = list(self._pages(self.reader.root["/Pages"]))
        self.fonts: dict[str, Any] = {}
        self.page_texts = [self._text(page) for page in self.pages]

    def _pages(self, node: Any) -> Any:
        if node["/Type"] == "/Pages":
            for kid in node["/Kids"]:
                yield from self._pages(kid.get_object())
        else:
            yield node

    def _text(self, page: Any) -> str:
        maps = {}
        fonts = page["/Resources"].get("/Font", generic.DictionaryObject()).get_object()
        for name, ref in fonts.items():
            font = ref.get_object()
            self.fonts[str(font["/BaseFont"])] = font
            maps[str(name)[1:]] = _cmap(font["/ToUnicode"])
        contents = page["/Contents"]
        streams = [contents] if hasattr(contents, "data") else [c.get_object() for c in contents]
        data = b"".join(s.data for s in streams)
        lines, line, mapping = [], [], {}
        for font, array, single, end in _TEXT_OPS.findall(data):
            if font:
                mapping = maps.get(font.decode(), {})
            elif end:
                lines.append("".join(line))
                line = []
            else:
                for code in _HEX.findall(array) if array else [single]:
                    text = code.decode()
                    line.extend(mapping.get(int(text[i:i + 4], 16), "\ufffd") for i in range(0, len(text), 4))
        return "\n".join(lines)

    @property
    def text(self) -> str:
        return "\n".join(self.page_texts)


def pdf_of(doc: ReportDocument) -> Pdf:
    return Pdf(render.render_pdf(doc))


@pytest.fixture(scope="module")
def typical() -> Pdf:
    return pdf_of(a_document())


# --- the tests ----------------------------------------------------------------------------------------

def test_a_report_is_an_a4_pdf_with_its_number_title_and_chinese_text(typical: Pdf) -> None:
    assert typical.data.startswith(b"%PDF-")
    assert typical.data.rstrip().endswith(b"%%EOF")
    assert len(typical.pages) >= 1
    box = typical.pages[0]["/MediaBox"]
    width, height = float(box[2]), float(box[3])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = typical.text
    for expected in (NUMBER, "公共信用信息报告（企业版）", "南京示范科技有限公司", "南京市公共信用信息平台",
                     "2026年06月15日 10:00:00", "一、基础信息", "二、行政许可信息", "三、行政处罚信息",
                     "宁玄市监处罚〔2026〕12号", "南京市玄武区中山路100号示范大厦12层1201室", "说明",
                     "本报告信息来源于南京市公共信用信息平台依法归集的公共信用信息。"):
        assert expected in text, expected
    assert "\ufffd" not in text  # every glyph maps back to its character


def test_the_cjk_font_is_embedded_as_a_subset(typical: Pdf) -> None:
    assert typical.fonts, "no fonts found"
    for name, font in typical.fonts.items():
        assert "WenQuanYi" in name, name
        assert re.match(r"/[A-Z]{6}\+", name), f"{name} is not a subset"
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"]
        embedded = [descriptor[key] for key in ("/FontFile2", "/FontFile3") if key in descriptor]
        assert embedded, f"{name} is not embedded"
        assert len(embedded[0].data) > 1000


def test_every_page_has_the_running_header_and_its_page_number(typical: Pdf) -> None:
    count = len(typical.pages)
    for index, text in enumerate(typical.page_texts, start=1):
        assert f"第 {index} 页 共 {count} 页" in text
        assert f"报告编号：{NUMBER}" in text
        assert "南京市公共信用信息平台" in text


def test_metadata_names_the_report_and_the_issuing_platform(typical: Pdf) -> None:
    assert typical.info["/Title"] == "公共信用信息报告（企业版）"
    assert typical.info["/Author"] == "南京市公共信用信息平台"
    assert typical.info["/Subject"] == NUMBER
    assert NUMBER in typical.info["/Keywords"]
    assert typical.info["/CreationDate"].startswith("D:20260615100000+08")


def test_the_verification_url_is_printed_and_encoded_as_a_qr_code(typical: Pdf) -> None:
    assert VERIFY_URL in typical.text.replace("\n", "")
    assert "扫码或访问以下网址验证" in typical.text
    assert render.qr_data_uri(VERIFY_URL) in render.html_of(a_document())
    # The image on the first page is the QR code of the URL, module for module, drawn without smoothing.
    images = [x.get_object() for x in typical.pages[0]["/Resources"]["/XObject"].values()]
    (image,) = [x for x in images if x["/Subtype"] == "/Image"]
    expected = segno.make(VERIFY_URL, error="m", micro=False)
    size = expected.symbol_size(scale=1, border=2)[0]
    assert (image["/Width"], image["/Height"]) == (size, size)
    assert image["/Interpolate"] is False or str(image["/Interpolate"]) == "False"
    assert _dark_modules(image) == [[bool(m) for m in row] for row in expected.matrix_iter(scale=1, border=2)]


def _dark_modules(image: Any) -> list[list[bool]]:
    """The pixels of an RGB image XObject (Flate + PNG predictors), dark or not."""
    width, colours = int(image["/Width"]), int(image["/DecodeParms"]["/Colors"])
    raw, stride = zlib.decompress(image.encoded_data), width * colours
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for start in range(0, len(raw), stride + 1):
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - colours] if i >= colours else 0
            up, corner = previous[i], previous[i - colours] if i >= colours else 0
            predictor = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    return [[row[x * colours] < 128 for x in range(width)] for row in rows]


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
    return (left, up, corner)[distances.index(min(distances))]


def test_a_report_without_a_verify_url_has_no_qr_code() -> None:
    html = render.html_of(a_document(verify_url=""))
    assert "data:image/png" not in html
    assert not pdf_of(a_document(verify_url="")).pages[0]["/Resources"]["/XObject"]


def test_an_empty_section_says_none(typical: Pdf) -> None:
    # an empty section is its heading and one line, not a table of headers over nothing
    section = typical.text.split("守信激励对象名单信息", 1)[1]
    assert section.lstrip("\n").startswith("无\n")
    assert "名单名称" not in section


def test_a_long_report_spans_pages_and_repeats_the_table_header_on_each() -> None:
    pdf = pdf_of(a_document(rows=200))
    assert len(pdf.pages) >= 4
    pages_with_rows = [t for t in pdf.page_texts if "宁玄市监处罚〔2026〕" in t]
    assert len(pages_with_rows) >= 4
    for text in pages_with_rows:
        assert all(header in text for header in PENALTY_HEADERS), text[:200]
    assert "宁玄市监处罚〔2026〕200号" in pdf.text
    assert f"第 {len(pdf.pages)} 页 共 {len(pdf.pages)} 页" in pdf.page_texts[-1]


def test_a_special_report_prints_its_conclusion_period_and_fields() -> None:
    doc = a_document(kind="special", title="专项信用报告（替代有无违法违规记录证明）",
                     conclusion="经查询，南京示范科技有限公司在2026年1月1日至2026年6月1日期间，在市场监管、税务领域均未发现违法违规记录。",
                     period=(date(2026, 1, 1), date(2026, 6, 1)), fields=["市场监管", "税务"],
                     sections=[Section("市场监管领域", ["信息类别"], [], empty_text="未发现违法违规记录",
                                       note="经查询，该主体在2026年1月1日至2026年6月1日期间，在市场监管领域未发现违法违规记录。")])
    text = pdf_of(doc).text
    for expected in ("专项信用报告（替代有无违法违规记录证明）", "一、查询结论", "在市场监管、税务领域均未发现违法违规记录", "查询期间", "2026年01月01日 至 2026年06月01日",
                     "查询领域", "市场监管、税务", "三、市场监管领域", "未发现违法违规记录"):
        assert expected in text, expected


def test_text_is_escaped_not_interpreted() -> None:
    doc = a_document(subject_name="<b>南京</b>&示范", sections=[Section("行政处罚信息", ["内容"], [["<script>x</script>"]])])
    html = render.html_of(doc)
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "<b>南京</b>&示范" in pdf_of(doc).text


def test_the_same_document_gives_the_same_pdf() -> None:
    doc = a_document(rows=3)
    assert render.render_pdf(doc) == render.render_pdf(doc)


def test_column_widths_keep_numbers_whole_and_narrow_prose_to_fill_the_table() -> None:
    widths = render.column_widths(Section("行政处罚信息", PENALTY_HEADERS, penalty_rows(12)))
    assert sum(widths) == pytest.approx(94, abs=0.1)

    def natural(text: str) -> float:  # percent of the table a cell of ``text`` needs on one line
        return 94 * (render.text_width(text) + render._CELL_PADDING_EMS) / render._TABLE_EMS

    for header, cell in zip(PENALTY_HEADERS, penalty_rows(12)[-1], strict=True):  # all fit on one line
        assert widths[PENALTY_HEADERS.index(header)] >= natural(cell) - 0.01, header

    facts = "在网店发布虚假的产品功效宣传，误导消费者，违法所得共计人民币三万元"
    crowded = Section("行政处罚信息", ["决定书文号", "违法事实", "处罚机关", "决定日期"],
                      [["宁玄市监处罚〔2026〕12号", facts, "南京市玄武区市场监督管理局", "2026-01-05"]])
    widths = render.column_widths(crowded)
    assert sum(widths) == pytest.approx(94, abs=0.1)
    assert widths[0] >= natural("宁玄市监处罚〔2026〕12号") - 0.01 and widths[3] >= natural("2026-01-05") - 0.01
    assert widths[1] < natural(facts)  # prose wraps, numbers do not
    assert render.column_widths(Section("空", [], [])) == []


def test_threads_render_the_same_pdfs_as_one_thread() -> None:
    """Web requests render in a thread pool: each thread has its own fonts and stylesheet."""
    from concurrent.futures import ThreadPoolExecutor

    docs = [a_document(rows=i % 3 + 1, number=f"XYBG32010020260000{i:02d}") for i in range(6)]
    alone = [render.render_pdf(doc) for doc in docs]
    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(render.render_pdf, docs)) == alone
