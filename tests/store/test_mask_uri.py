"""mask_uri keeps what an operator needs to debug a connection and hides every secret."""

from __future__ import annotations

import pytest

from crawler.store import InvalidURI, check_uri, mask_uri
from crawler.store.uri import uri_database

CASES = [
    pytest.param(
        "mongodb://news:s3cr3t@db.example:27017/newsdesk?authSource=admin",
        "mongodb://news:***@db.example:27017/newsdesk?authSource=admin",
        "s3cr3t",
        id="password",
    ),
    pytest.param("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/", None, id="no-user"),
    pytest.param("mongodb://localhost", "mongodb://localhost", None, id="bare-host"),
    pytest.param(
        "mongodb+srv://app:p%40ss%2Fw@cluster0.ab1cd.mongodb.net/news?retryWrites=true&w=majority",
        "mongodb+srv://app:***@cluster0.ab1cd.mongodb.net/news?retryWrites=true&w=majority",
        "p%40ss",
        id="srv",
    ),
    pytest.param(
        "mongodb://u:hunter2@h1:27017,h2:27018,[::1]:27019/db?replicaSet=rs0",
        "mongodb://u:***@h1:27017,h2:27018,[::1]:27019/db?replicaSet=rs0",
        "hunter2",
        id="multiple-hosts",
    ),
    pytest.param(
        "mongodb://h1/?appname=x&token=abc123&w=1",
        "mongodb://h1/?appname=x&token=***&w=1",
        "abc123",
        id="token-param",
    ),
    pytest.param(
        "mongodb://h1/?tls=true;tlsCertificateKeyFilePassword=kfp;clientSecret=cs",
        "mongodb://h1/?tls=true;tlsCertificateKeyFilePassword=***;clientSecret=***",
        "kfp",
        id="password-and-secret-params-semicolons",
    ),
    pytest.param(
        "mongodb://h1/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:tok999,SERVICE_NAME:mongodb",
        "mongodb://h1/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:***,SERVICE_NAME:mongodb",
        "tok999",
        id="aws-session-token",
    ),
    pytest.param(
        "mongodb://CN=client@h1/?authMechanism=MONGODB-X509",
        "mongodb://CN=client@h1/?authMechanism=MONGODB-X509",
        None,
        id="username-only",
    ),
    pytest.param(
        "mongodb://user:p@ss/w0rd@host:27017/db",
        "mongodb://user:***@host:27017/db",
        "w0rd",
        id="unescaped-at-and-slash-in-password",
    ),
    pytest.param(
        "mongodb://user:pa?ss@host/db?w=1",
        "mongodb://user:***@host/db?w=1",
        "pa?ss",
        id="unescaped-question-mark-in-password",
    ),
    pytest.param("localhost:27017", "localhost:27017", None, id="not-a-uri"),
]


@pytest.mark.parametrize(("uri", "expected", "secret"), CASES)
def test_mask_uri(uri: str, expected: str, secret: str | None) -> None:
    masked = mask_uri(uri)
    assert masked == expected
    if secret is not None:
        assert secret not in masked


@pytest.mark.parametrize(
    ("uri", "database"),
    [
        ("mongodb://h/", None),
        ("mongodb://h", None),
        ("mongodb://u:p@h1,h2/news?replicaSet=rs0", "news"),
        ("mongodb+srv://c.example.net/news%2Dkr?w=1", "news-kr"),
        ("mongodb://h/?authSource=admin", None),
    ],
)
def test_uri_database(uri: str, database: str | None) -> None:
    assert uri_database(uri) == database


def test_scheme_less_uri_with_a_password_is_masked() -> None:
    assert mask_uri("user:s3cr3t@127.0.0.1:1") == "***@127.0.0.1:1"
    assert "s3cr3t" not in mask_uri("mongo//user:s3cr3t@host/db")
    assert mask_uri("localhost:27017") == "localhost:27017"


def test_check_uri_refuses_what_the_driver_cannot_use():
    check_uri("mongodb://u:p@h1:27017,h2/db?replicaSet=rs0")
    check_uri("mongodb+srv://no.such.example/db")  # looked up when connecting, not here
    with pytest.raises(InvalidURI):
        check_uri("mongodb://h:notaport/db")
    with pytest.raises(InvalidURI):
        check_uri("http://example.com")
