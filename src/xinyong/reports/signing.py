"""Signing and verifying report PDFs (PAdES), with no database: verification works offline.

Choice: a PAdES signature (PDF's own signature format, ISO 32000 / ETSI EN 319 142) made with an
ECDSA P-256 key whose X.509 certificate the platform issues to itself. PDF readers show the
signature and whether the document changed after signing; anyone holding the platform's published
certificate can check it without calling the platform (``xinyong reports verify``); another region's
instance trusts this one by importing that certificate (跨区域互认). A bare Ed25519 signature over
the bytes would be smaller but invisible to readers and outside the PDF standard.

Each key has an id (``key_id``: the first 16 hex digits of the certificate's SHA-256 fingerprint).
Rotation issues a new key; retired certificates stay published so old reports keep verifying; a
revoked certificate (the key may be compromised) makes every report signed with it ``revoked`` —
the signing time a holder of the key writes proves nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIELD_NAME = "XinyongReportSignature"
NUMBER_PREFIX = "信用报告编号:"  # written into the signature's reason, so the signed bytes carry the number


@dataclass(frozen=True)
class KeyPair:
    key_id: str
    private_key_pem: bytes
    certificate_pem: bytes


@dataclass(frozen=True)
class TrustedCertificate:
    """A certificate a verifier trusts, and whether (and when) it was revoked."""

    certificate_pem: bytes
    revoked_at: datetime | None = None
    issuer: str = ""  # the platform that published it, for the answer


@dataclass(frozen=True)
class Verdict:
    """genuine / altered / revoked / unknown (signed, but not by a trusted key) / not_signed / not_pdf."""

    status: str
    number: str = ""
    key_id: str = ""
    issuer: str = ""
    signed_at: datetime | None = None
    detail: str = ""


def key_id_of(certificate_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


def generate_key(platform_name: str, region_code: str, *, years: int = 10) -> KeyPair:
    """A new signing key and its self-issued certificate (签章证书) for this platform."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, platform_name[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"行政区划 {region_code}"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{platform_name[:40]} 信用报告签章")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=365 * years))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(usage, critical=True)
                   .sign(key, hashes.SHA256()))
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return KeyPair(key_id_of(certificate_pem), private_pem, certificate_pem)


def _asn1_certificate(certificate_pem: bytes) -> asn1_x509.Certificate:
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


# Room for the CMS signature (an ECDSA signature and one certificate take about 1.5 KB). Fixed, so
# pyHanko does not sign twice to estimate it (a third of the signing time).
SIGNATURE_BYTES_RESERVED = 4096


@cache
def _signer(pair: KeyPair) -> Any:
    """pyHanko's signer for a key pair, built once per process (parsing the key and certificate is not free)."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    certificate = _asn1_certificate(pair.certificate_pem)
    private = serialization.load_pem_private_key(pair.private_key_pem, password=None)
    key_info = asn1_keys.PrivateKeyInfo.load(private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return signers.SimpleSigner(signing_cert=certificate, signing_key=key_info,
                                cert_registry=SimpleCertificateStore.from_certs([certificate]))


def sign(pdf: bytes, pair: KeyPair, *, number: str, location: str) -> bytes:
    """The PDF with a PAdES signature over all of it; the report number is in the signed reason."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=f"{NUMBER_PREFIX}{number}", location=location,
                                        md_algorithm="sha256")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signed = _in_own_loop(lambda: signers.async_sign_pdf(writer, meta, signer=_signer(pair),
                                                         bytes_reserved=SIGNATURE_BYTES_RESERVED))
    return signed.getvalue()


def _signature(pdf: bytes):  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
    return found[-1] if found else None


def _in_own_loop(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run one of pyHanko's coroutines on a loop of its own — in another thread when the caller's
    thread already runs a loop (an async server, a browser-test harness), where asyncio.run fails."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _validate(signature: Any, context: Any) -> Any:
    from pyhanko.sign.validation import async_validate_pdf_signature

    return _in_own_loop(lambda: async_validate_pdf_signature(signature, context))


def verify(pdf: bytes, trusted: Mapping[str, TrustedCertificate]) -> Verdict:
    """Check a report PDF against the certificates one trusts (key id → certificate). Offline."""
    from pyhanko_certvalidator import ValidationContext

    if not pdf.startswith(b"%PDF"):
        return Verdict("not_pdf", detail="不是PDF文件")
    try:
        signature = _signature(pdf)
    except Exception as error:  # a truncated or mangled file: pyHanko raises many kinds
        return Verdict("altered", detail=f"文件已损坏或被截断，无法读取签名（{type(error).__name__}）")
    if signature is None:
        if FIELD_NAME.encode() in pdf:  # cut short after (or inside) the signature: a damaged report
            return Verdict("altered", detail="文件已被截断或损坏，签名不完整")
        return Verdict("not_signed", detail="文件中没有信用报告签章，不是本平台出具的信用报告")
    reason = str(signature.sig_object.get("/Reason", ""))
    number = reason.removeprefix(NUMBER_PREFIX) if reason.startswith(NUMBER_PREFIX) else ""
    try:  # the certificate is inside the signature's bytes: changed bytes there may not even parse
        key_id = hashlib.sha256(signature.signer_cert.dump()).hexdigest()[:16]
    except Exception as error:
        return Verdict("altered", number=number, detail=f"签名数据已损坏（{type(error).__name__}）")
    entry = trusted.get(key_id)
    if entry is None:
        return Verdict("unknown", number=number, key_id=key_id, detail="签章证书不在受信任的证书列表中（可能来自未互认的平台或伪造）")
    try:
        status = _validate(signature, ValidationContext(trust_roots=[_asn1_certificate(entry.certificate_pem)]))
    except Exception as error:
        return Verdict("altered", number=number, key_id=key_id, issuer=entry.issuer,
                       detail=f"签名无法校验（{type(error).__name__}）")
    signed_at = status.signer_reported_dt
    if not (status.intact and status.valid and status.trusted) or status.coverage.name != "ENTIRE_FILE":
        return Verdict("altered", number=number, key_id=key_id, issuer=entry.issuer, signed_at=signed_at,
                       detail="文件内容在签章后被修改")
    if entry.revoked_at is not None:  # revocation means the key may be in other hands: its date proves nothing
        return Verdict("revoked", number=number, key_id=key_id, issuer=entry.issuer, signed_at=signed_at,
                       detail="签章证书已被吊销，该证书签署的报告不再有效，请重新申请报告")
    return Verdict("genuine", number=number, key_id=key_id, issuer=entry.issuer, signed_at=signed_at)
