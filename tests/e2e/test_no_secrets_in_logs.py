"""No secret in any log or output: the command line and a live `forvalg serve` with
logging at its most verbose (`FORVALG_LOG_LEVEL=trace`, where uvicorn logs every
request's ASGI messages, and SQLAlchemy its statements), exercised with
API keys, a staff token, a subscriber's one-time code and session, and a web sign-in;
then a full small demo at the same level. Every file they wrote (logs, stdout, stderr,
outputs, the database; zips opened) is searched for every secret the test knows, raw,
hex and base64, and for anything shaped like a bearer token. A secret is allowed only
where it is meant to be: a new key or token on the last stdout line of the command that
issued it, the keys in their key files, and the one-time code in the message carrying
it (docs/SECURITY.md, "Not yet")."""

from __future__ import annotations

import base64
import csv
import http.client
import json
import re
import sqlite3
import urllib.parse
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from .helpers import Cli, Result, write_csv
from .server import served

TRACE = {"FORVALG_LOG_LEVEL": "trace"}
TOKEN_SHAPE = re.compile(rb"fv[gus]_[A-Za-z0-9]{1,16}_[A-Za-z0-9_\-]{20,}")
LINE = "22334455"


def _forms(secret: str | bytes) -> set[bytes]:
    """The secret as raw text or bytes, hex, base64 and base64url (with and without
    padding)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    found = {raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)}
    return found | {f.rstrip(b"=") for f in found}


def _key_file_secrets(keys: Path) -> dict[str, set[bytes]]:
    """Every key file's secret in every form: the file's text, and the key bytes in it."""
    found: dict[str, set[bytes]] = {}
    for path in sorted(p for p in keys.rglob("*") if p.is_file()):
        text = path.read_text().strip()
        forms = {text.encode()}
        if text.startswith("PRIVATE+KEY+"):  # the ledger key: base64(0x01 || seed)
            encoded = text.split("+", 4)[4]  # PRIVATE+KEY+<name>+<id>+<base64>
            forms |= _forms(encoded) | _forms(base64.b64decode(encoded)[1:])
        else:
            forms |= _forms(bytes.fromhex(text))
        found[f"key file {path.name}"] = forms
    return found


def _contents(root: Path, skip: set[Path]) -> Iterator[tuple[str, bytes]]:
    """Every file under `root` but those in `skip` (and below), zip members opened."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(path == s or s in path.parents for s in skip):
            continue
        data = path.read_bytes()
        yield str(path), data
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member)


def _leaks(contents: Iterator[tuple[str, bytes]], secrets: dict[str, set[bytes]]) -> list[str]:
    found = []
    for where, data in contents:
        for name, forms in secrets.items():
            if any(f in data for f in forms if len(f) >= 8):
                found.append(f"{name} in {where}")
        found += [
            f"token-shaped {m.group()[:12]!r}… in {where}" for m in TOKEN_SHAPE.finditer(data)
        ]
    return found


def _issued(result: Result) -> str:
    """The secret a command prints once, on its own last stdout line; its other output is
    written next to the logs, to be searched with them."""
    return result.last_line


def _request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("set-cookie") or []:
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def _web_sign_in(port: int, credential: str) -> str:
    """Sign in through the form as a browser does; the session cookie's value."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/signin")
    form = connection.getresponse()
    html = form.read().decode()
    pre = _cookies(form)
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    body = urllib.parse.urlencode({"csrf": found.group(1), "credential": credential, "next": "/"})
    connection.request(
        "POST",
        "/signin",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in pre.items()),
        },
    )
    signed = connection.getresponse()
    signed.read()
    connection.close()
    assert signed.status == 303, signed.status
    session = _cookies(signed)["forvalg_session"]
    page = _request(port, "GET", "/compliance", headers={"Cookie": f"forvalg_session={session}"})
    assert page.status == 200
    return session


def test_no_secret_reaches_the_logs_of_the_cli_and_a_live_server(
    initialised: Cli, tmp_path: Path
) -> None:
    cli = initialised.with_env(**TRACE)
    logs = tmp_path / "logs"
    logs.mkdir()
    results: list[Result] = []

    def run(*args: str | Path) -> Result:
        result = cli.ok(*args)
        results.append(result)
        return result

    run("lines", "import", write_csv(tmp_path / "lines.csv", f"{LINE},0150,PSTN,ACTIVE"))
    key = _issued(run("operators", "add", "--id", "alfatel", "--name", "Alfa", "--csc", "1501"))
    second = _issued(run("operators", "new-key", "--id", "alfatel"))
    staff = _issued(run("users", "add", "--name", "Cecilie", "--role", "compliance_officer"))
    wrong = key.rsplit("_", 1)[0] + "_" + "x" * 43  # the right key id, a wrong secret
    with served(cli, logs / "serve.log", **TRACE) as (port, _):
        for token in (key, second, wrong):
            _request(port, "GET", "/v1/orders", headers={"Authorization": f"Bearer {token}"})
        # Which lines an operator asks about is CPS data, kept out of the access log too.
        for path in (f"/v1/lines/{LINE}/eligibility", f"/v1/orders?number={LINE}"):
            asked = _request(port, "GET", path, headers={"Authorization": f"Bearer {key}"})
            assert asked.status == 200
        order = {
            "type": "PROVIDE",
            "number": LINE,
            "postcode": "0150",
            "option": "ALL",
            "authorisation": {"reference": "LOA-1", "signed_at": "2026-11-20", "channel": "web"},
        }
        placed = _request(
            port,
            "POST",
            "/v1/orders",
            headers={
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": "one",
                "Content-Type": "application/json",
            },
            body=json.dumps(order).encode(),
        )
        assert placed.status == 201
        _request(
            port,
            "GET",
            "/v1/log/checkpoint",
            headers={"Authorization": f"Bearer {staff}", "X-Forvalg-Purpose": "compliance_audit"},
        )
        asked = _request(
            port,
            "POST",
            "/v1/subscriber/codes",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"number": LINE, "channel": "sms"}).encode(),
        )
        assert asked.status == 202
        with closing(sqlite3.connect(cli.cwd / "forvalg.db")) as database:
            [(message,)] = database.execute("SELECT body FROM subscriber_messages").fetchall()
        code = re.search(r"\bis ([0-9]{8})\.", message)
        assert code, message
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST",
            "/v1/subscriber/sessions",
            body=json.dumps({"number": LINE, "code": code.group(1)}),
            headers={"Content-Type": "application/json"},
        )
        opened = connection.getresponse()
        subscriber = json.loads(opened.read())["token"]
        connection.close()
        assert opened.status == 201
        for path in ("/v1/subscriber/line", "/v1/subscriber/accesses"):
            _request(port, "GET", path, headers={"Authorization": f"Bearer {subscriber}"})
        cookie = _web_sign_in(port, staff)
    run("ledger", "checkpoint")
    for i, result in enumerate(results):
        stdout = result.stdout.splitlines()
        printed = stdout[:-1] if result.last_line in (key, second, staff) else stdout
        (logs / f"cli-{i}.stdout").write_text("\n".join(printed))
        (logs / f"cli-{i}.stderr").write_text(result.stderr)

    log = (logs / "serve.log").read_text()
    assert "ASGI [" in log  # the most verbose level was on: uvicorn's ASGI messages
    assert "INSERT INTO" in log  # and SQLAlchemy's statements
    secrets = _key_file_secrets(cli.cwd / ".forvalg")
    assert {"key file pseudonym.key", "key file ledger.key", "key file web.key"} <= set(secrets)
    for name, token in (
        ("API key", key),
        ("second API key", second),
        ("wrong key", wrong),
        ("staff token", staff),
        ("subscriber session", subscriber),
    ):
        secrets[name] = _forms(token) | _forms(token.rsplit("_", 1)[1])
    secrets["session cookie"] = _forms(cookie)
    everything = [*_contents(logs, set()), *_contents(cli.cwd, {cli.cwd / ".forvalg"})]
    assert _leaks(iter(everything), secrets) == []
    number = re.compile(rb"(?<![0-9])" + LINE.encode() + rb"(?![0-9])")
    assert [w for w, data in _contents(logs, set()) if number.search(data)] == []
    # The one-time code: in the message carrying it (the database), nowhere else.
    digits = re.compile(rb"(?<![0-9])" + code.group(1).encode() + rb"(?![0-9])")
    assert [w for w, data in _contents(logs, set()) if digits.search(data)] == []


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full small demo at the most verbose log level; its stdout and stderr are written
    beside its output. The directory it ran in."""
    cwd = tmp_path_factory.mktemp("demo-trace")
    result = Cli(cwd).with_env(**TRACE).run("demo", "--small", "--out", "out", timeout=600)
    assert result.returncode == 0, str(result)
    assert "INFO" in result.stderr  # logging was on
    (cwd / "demo.stdout").write_text(result.stdout)
    (cwd / "demo.stderr").write_text(result.stderr)
    return cwd


def test_no_secret_reaches_the_output_of_a_full_demo(demo: Path) -> None:
    out = demo / "out"
    secrets = _key_file_secrets(out / "keys")

    assert {"key file pseudonym.key", "key file ledger.key"} <= set(secrets)
    assert _leaks(_contents(demo, {out / "keys"}), secrets) == []


def test_findings_reports_and_evidence_bundles_name_no_subscriber_number(demo: Path) -> None:
    """What detection, the report and an inquiry's answer hand on (to management, the
    regulator) names campaigns, agents, principals and contact ids, never a line."""
    out = demo / "out"
    with (out / "lines.csv").open() as lines:
        numbers = {row["number"].encode() for row in csv.DictReader(lines)}
    handed_on = [out / "findings.json", out / "summary.json", *(out / "report").iterdir()]
    handed_on += list(out.glob("evidence-*.zip"))
    assert len(handed_on) >= 5
    found = []
    for where, data in _contents(out, set()):
        if not any(where.startswith(str(p)) for p in handed_on):
            continue
        digits = set(re.findall(rb"(?<![0-9a-f])[0-9]{8}(?![0-9a-f])", data))
        found += [f"{n.decode()} in {where}" for n in digits & numbers]
    assert found == []
