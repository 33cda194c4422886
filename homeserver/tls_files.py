"""The TLS certificate of the federation listener: loading it, and writing a self-signed
one for a new server (``generate-config``) or a test.

spec: server-server "TLS" wants a certificate signed by a known authority; a self-signed
one serves tests and peers configured not to verify (``federation.verify_certificates``).
``cryptography`` is imported only to write one, never by a serving process.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

SELF_SIGNED_DAYS = 3650


def server_context(certificate: Path, private_key: Path) -> ssl.SSLContext:
    """The TLS context of the federation listener; ``OSError``/``ssl.SSLError`` when the
    files are missing or do not match."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certificate), str(private_key))
    context.set_alpn_protocols(["http/1.1"])
    return context


def write_self_signed(certificate: Path, private_key: Path, hostname: str) -> None:
    """Write a new EC P-256 key and a self-signed certificate (ten years) for
    ``hostname`` (a DNS name or an IP address; the port of a server name is dropped)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    host = _host_of(hostname)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_key.parent.mkdir(parents=True, exist_ok=True)
    certificate.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_key.touch(mode=0o600)
    private_key.write_bytes(key_pem)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _host_of(server_name: str) -> str:
    """The host of a server name: ``[::1]:8448`` -> ``::1``, ``a.org:80`` -> ``a.org``."""
    if server_name.startswith("["):
        return server_name[1 : server_name.index("]")]
    return server_name.partition(":")[0]
