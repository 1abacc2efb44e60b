"""Elasticsearch behind a private CA: ``ELASTICSEARCH_CA_CERTS`` reaches the search client and the gateway's check.

A real HTTPS server on 127.0.0.1 with a certificate signed by a CA made for the test stands in for
the cluster; without the CA file both clients refuse it, with it both talk to it.
"""

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from elastic_transport import TlsError

from gateway.api.health import _elasticsearch
from services.search.dependencies import client_from

INFO = {"name": "fake", "cluster_name": "casewire", "version": {"number": "8.19.21"}, "tagline": "You Know, for Search"}


def _certificate(subject: str, key, issuer_name, issuer_key, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool):
        data = json.dumps(INFO).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def private_cluster(tmp_path_factory):
    """``(url, ca_file)`` of an HTTPS server whose certificate a private CA signed."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Casewire test CA", ca_key, None, None, ca=True)
    server = _certificate("127.0.0.1", server_key, ca.subject, ca_key, ca=False)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.crt", folder / "server.key")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", str(folder / "ca.crt")
    httpd.shutdown()


def test_the_search_client_trusts_the_configured_private_ca(private_cluster):
    url, ca_file = private_cluster
    client = client_from({"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERTS": ca_file})
    assert client.info()["cluster_name"] == "casewire"
    client.close()


def test_without_the_ca_the_search_client_refuses_the_cluster(private_cluster):
    url, _ = private_cluster
    client = client_from({"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERTS": ""})
    client = client.options(max_retries=0)
    with pytest.raises(TlsError):
        client.info()


def test_the_gateway_readiness_check_uses_the_same_ca(private_cluster):
    url, ca_file = private_cluster
    assert _elasticsearch({"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERTS": ca_file}) is True
    with pytest.raises(requests.exceptions.SSLError):
        _elasticsearch({"ELASTICSEARCH_URL": url, "ELASTICSEARCH_CA_CERTS": ""})
