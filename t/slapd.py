"""A real OpenLDAP slapd per test module, on 127.0.0.1, with its own config and a test directory.

It runs from a temp dir (slapd.conf, an mdb database loaded with slapadd, a CA and a server
certificate for StartTLS and ldaps), never the system's /etc/ldap configuration.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SUFFIX = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
# uid, mail, password
PEOPLE = [("jane", "jane@example.com", "jane-ldap-pass"), ("joe", "joe@example.com", "joe-ldap-pass")]


def slapd_binary() -> str | None:
    return shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")


def require_slapd() -> str:
    path = slapd_binary()
    if path is None:
        msg = "slapd is not installed: run bin/convos-test as root, or apt-get install slapd ldap-utils"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI is set, so this is an error, not a skip")
        pytest.skip(msg)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_ca_and_server_cert(tmp: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA, and a certificate for 127.0.0.1 and localhost it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Convos test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _ldif() -> str:
    entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n",
               f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n"]
    for uid, mail, password in PEOPLE:
        # Two places: uid=jane,dc=example,dc=com for the DN template, and ou=people for searches.
        for parent in (SUFFIX, f"ou=people,{SUFFIX}"):
            entries.append(f"dn: uid={uid},{parent}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
                           f"sn: {uid}\nmail: {mail}\nuserPassword: {password}\n")
    return "\n".join(entries)


@dataclass
class Slapd:
    port: int
    ldaps_port: int
    ca: Path
    dir: Path

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    binary = require_slapd()
    slapadd = shutil.which("slapadd") or shutil.which("slapadd", path="/usr/sbin:/usr/local/sbin") or "slapadd"
    tmp = Path(tempfile.mkdtemp(prefix="convos-slapd-"))
    try:
        ca, cert, key = make_ca_and_server_cert(tmp)
        (tmp / "db").mkdir()
        schema = Path("/etc/ldap/schema")
        conf = tmp / "slapd.conf"
        conf.write_text("\n".join([
            *(f"include {schema / name}.schema" for name in ("core", "cosine", "inetorgperson")),
            f"pidfile {tmp / 'slapd.pid'}",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            f"TLSCACertificateFile {ca}",
            f"TLSCertificateFile {cert}",
            f"TLSCertificateKeyFile {key}",
            "database mdb",
            f"suffix \"{SUFFIX}\"",
            f"rootdn \"{ADMIN_DN}\"",
            f"rootpw {ADMIN_PASSWORD}",
            f"directory {tmp / 'db'}",
            "access to attrs=userPassword by anonymous auth by * none",
            "access to * by * read",
            "",
        ]))
        (tmp / "data.ldif").write_text(_ldif())
        subprocess.run([slapadd, "-f", str(conf), "-l", str(tmp / "data.ldif")], check=True,
                       capture_output=True, timeout=60)
        port, ldaps_port = _free_port(), _free_port()
        urls = f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/"
        proc = subprocess.Popen([binary, "-d", "0", "-f", str(conf), "-h", urls], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                socket.create_connection(("127.0.0.1", ldaps_port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    proc.kill()
                    pytest.fail(f"slapd did not start: {out}")
                time.sleep(0.05)  # polling a port another process opens; not synchronising our own code
        try:
            yield Slapd(port=port, ldaps_port=ldaps_port, ca=ca, dir=tmp)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)



def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (an unreachable server)."""
    return _free_port()
