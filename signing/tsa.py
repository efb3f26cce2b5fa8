"""Timestamping: an RFC 3161 client for a configured TSA, and the development TSA of `keys init-dev`.

The development TSA answers in-process (``tsa_url = "dev"``) or over HTTP (``sohoa tsa serve``), so
B-T, B-LT and B-LTA work offline; its certificate says DEVELOPMENT like every development key.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.general import as_signing_certificate, get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

MAX_REQUEST = 64 * 1024


class _DevTimeStamper(DummyTimeStamper):
    """pyHanko's self-contained TSA, keeping its parsed key instead of parsing it for every token (35 ms)."""

    _key = None

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt):
        if self._key is None:
            self._key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._key.sign(signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


def dev_timestamper(tsa_p12: Path, passphrase: bytes) -> DummyTimeStamper:
    """The development TSA, answering in-process with the key made by `keys init-dev`."""
    key, cert, chain = pkcs12.load_key_and_certificates(tsa_p12.read_bytes(), passphrase)
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    as_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    extra = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain or ()]
    return _DevTimeStamper(as_cert, asn1_keys.PrivateKeyInfo.load(der_key), certs_to_embed=extra)


def timestamper_for(tsa_url: str | None, dev_tsa: Path | None, passphrase: bytes | None,
                    timeout: float = 10.0) -> TimeStamper | None:
    """The configured timestamper: ``None``, the development one (``"dev"``), or an HTTP(S) TSA."""
    if not tsa_url:
        return None
    if tsa_url == "dev":
        if dev_tsa is None or passphrase is None or not dev_tsa.exists():
            raise RuntimeError("SOHOA_TSA_URL=dev needs the development TSA key: run `sohoa keys init-dev`")
        return dev_timestamper(dev_tsa, passphrase)
    if not tsa_url.startswith(("http://", "https://")):
        raise RuntimeError(f"SOHOA_TSA_URL must be an http(s) URL or 'dev', not {tsa_url!r}")
    return HTTPTimeStamper(tsa_url, timeout=timeout)


class _Handler(BaseHTTPRequestHandler):
    server: _TsaServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Content-Type") != "application/timestamp-query" or not 0 < length <= MAX_REQUEST:
            self.send_error(400, "expected an application/timestamp-query body")
            return
        try:
            request = tsp.TimeStampReq.load(self.rfile.read(length))
            request.native  # noqa: B018 (parses the whole request: a malformed one fails here)
            response = self.server.stamper.request_tsa_response(request).dump()
        except Exception:
            self.send_error(400, "malformed timestamp request")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class _TsaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], stamper: DummyTimeStamper):
        super().__init__(address, _Handler)
        self.stamper = stamper


class DevTsaServer:
    """The development TSA over HTTP (RFC 3161 over HTTP POST), in a background thread."""

    def __init__(self, tsa_p12: Path, passphrase: bytes, host: str = "127.0.0.1", port: int = 0):
        self._server = _TsaServer((host, port), dev_timestamper(tsa_p12, passphrase))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> DevTsaServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DevTsaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
