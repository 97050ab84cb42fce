"""Signed report PDFs verify offline: genuine, or altered (one byte, a field, truncated), revoked, unknown."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from weasyprint import HTML

from xinyong.reports import signing

PLATFORM = "南京市公共信用信息平台"


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return HTML(string="<html><body style='font-family: WenQuanYi Micro Hei'><h1>公共信用信息报告</h1>"
                       "<p>报告编号 XYBG3201002026000001</p><p>行政处罚：无</p></body></html>").write_pdf()


@pytest.fixture(scope="module")
def pair() -> signing.KeyPair:
    return signing.generate_key(PLATFORM, "320100")


def trust(*pairs: signing.KeyPair, revoked: bool = False) -> dict[str, signing.TrustedCertificate]:
    return {p.key_id: signing.TrustedCertificate(p.certificate_pem, datetime.now(UTC) if revoked else None, PLATFORM)
            for p in pairs}


def test_a_signed_report_is_genuine_and_names_its_number(pdf: bytes, pair: signing.KeyPair) -> None:
    signed = signing.sign(pdf, pair, number="XYBG3201002026000001", location="南京")
    verdict = signing.verify(signed, trust(pair))
    assert (verdict.status, verdict.number, verdict.key_id, verdict.issuer) == (
        "genuine", "XYBG3201002026000001", pair.key_id, PLATFORM)
    assert verdict.signed_at is not None
    assert signing.key_id_of(pair.certificate_pem) == pair.key_id and len(pair.key_id) == 16


def test_one_byte_changed_anywhere_in_the_content_is_altered(pdf: bytes, pair: signing.KeyPair) -> None:
    signed = signing.sign(pdf, pair, number="XYBG1", location="南京")
    for offset in (200, len(pdf) // 2, len(pdf) - 50):
        bad = bytearray(signed)
        bad[offset] ^= 0x01
        assert signing.verify(bytes(bad), trust(pair)).status == "altered", offset


def test_a_field_changed_after_signing_is_altered(pdf: bytes, pair: signing.KeyPair) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = signing.sign(pdf, pair, number="XYBG2", location="南京")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.trailer["/Info"] = writer.add_object(generic.DictionaryObject(
        {generic.NameObject("/Subject"): generic.TextStringObject("XYBG9999")}))
    out = io.BytesIO()
    writer.write(out)
    assert signing.verify(out.getvalue(), trust(pair)).status == "altered"


def test_truncated_unsigned_and_non_pdf_files(pdf: bytes, pair: signing.KeyPair) -> None:
    signed = signing.sign(pdf, pair, number="XYBG3", location="南京")
    assert signing.verify(signed[: len(signed) // 2], trust(pair)).status == "altered"
    assert signing.verify(pdf, trust(pair)).status == "not_signed"
    assert signing.verify(b"PK\x03\x04 not a pdf", trust(pair)).status == "not_pdf"
    assert signing.verify(b"", trust(pair)).status == "not_pdf"


def test_keys_from_elsewhere_revocation_and_rotation(pdf: bytes, pair: signing.KeyPair) -> None:
    other_region = signing.generate_key("苏州市公共信用信息平台", "320500")
    theirs = signing.sign(pdf, other_region, number="XYBG3205", location="苏州")
    assert signing.verify(theirs, trust(pair)).status == "unknown"  # not mutually recognised yet
    assert signing.verify(theirs, trust(pair, other_region)).status == "genuine"  # after importing its certificate
    mine = signing.sign(pdf, pair, number="XYBG4", location="南京")
    assert signing.verify(mine, trust(pair, revoked=True)).status == "revoked"
    rotated = signing.generate_key(PLATFORM, "320100")
    assert signing.verify(mine, trust(pair, rotated)).status == "genuine"  # old reports still verify
    forged = signing.generate_key(PLATFORM, "320100")  # same names, different key: not trusted
    assert signing.verify(signing.sign(pdf, forged, number="XYBG5", location="南京"), trust(pair)).status == "unknown"
