"""Wiring: the one place that builds engines, the wall and the services from settings.

Nothing happens at import time; `forvalg init` calls `initialise`, every entry point
(CLI, API, simulator, tests) calls `bootstrap`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from forvalg.compliance.access_log import AccessLogSearch
from forvalg.compliance.alerts import AlertDesk
from forvalg.compliance.canaries import CanaryDesk
from forvalg.compliance.contacts import ContactDesk
from forvalg.compliance.detection import DetectionDesk
from forvalg.compliance.incidents import IncidentDesk
from forvalg.compliance.inquiries import InquiryDesk
from forvalg.compliance.subscribers import SubscriberDesk
from forvalg.compliance.transparency import TransparencyLog
from forvalg.compliance.users import UserAdmin
from forvalg.domain.clock import Clock, SystemClock
from forvalg.domain.ids import new_order_id
from forvalg.domain.validation import OrderRules
from forvalg.ledger.note import NoteError, Signer
from forvalg.settings import Settings
from forvalg.store.engine import make_engine, make_sessions
from forvalg.store.migrate import upgrade
from forvalg.traffic.desk import RatingDesk
from forvalg.traffic.settlement import Settlement, StatementDesk
from forvalg.wall import Wall
from forvalg.wall.credentials import Authenticator
from forvalg.wall.cursors import Cursors
from forvalg.wall.ledger import LedgerKeeper
from forvalg.wall.policy import Policy
from forvalg.wall.pseudonyms import Pseudonymiser
from forvalg.wall.pseudonyms import key_id as pseudonym_key_id
from forvalg.wholesale.casework import Casework
from forvalg.wholesale.events import EventFeed
from forvalg.wholesale.operators import OperatorAdmin
from forvalg.wholesale.orders import OrderDesk
from forvalg.wholesale.processing import OrderProcessor
from forvalg.wholesale.routing_export import RoutingExporter
from forvalg.wholesale.work_items import WorkDesk
from forvalg.wholesale.work_queue import WorkQueueDesk

PSEUDONYM_KEY_FILE = "pseudonym.key"
RETIRED_PSEUDONYM_DIR = "pseudonym.retired"


class NotInitialised(Exception):
    pass


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is not initialised; the message says which."""


@dataclass
class Services:
    settings: Settings
    engine: Engine
    clock: Clock
    rules: OrderRules
    wall: Wall
    authenticator: Authenticator
    desk: OrderDesk
    processor: OrderProcessor
    feed: EventFeed
    operators: OperatorAdmin
    cursors: Cursors
    keeper: LedgerKeeper
    transparency: TransparencyLog
    users: UserAdmin
    work: WorkDesk
    casework: Casework
    alerts: AlertDesk
    subscribers: SubscriberDesk
    rating: RatingDesk
    settlement: Settlement
    statements: StatementDesk
    contacts: ContactDesk
    canaries: CanaryDesk
    detection: DetectionDesk
    routing: RoutingExporter
    incidents: IncidentDesk
    access_log: AccessLogSearch
    inquiries: InquiryDesk
    queue: WorkQueueDesk

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> None:
        """Fail early, with one clear message, if the database is unusable."""
        _check(self.engine)


def initialise(settings: Settings) -> list[str]:
    """Create or upgrade the database and create missing key files; says what it did."""
    done = []
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        where = _safe_url(settings.database_url)
        raise DatabaseUnavailable(f"{where}: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    done.append(f"database ready: {_safe_url(settings.database_url)}")
    pseudonym_key = settings.key_dir / PSEUDONYM_KEY_FILE
    if _create_secret(pseudonym_key, lambda: secrets.token_hex(32)):
        done.append(f"pseudonym key created: {pseudonym_key} (mode 0600)")
    else:
        done.append(f"pseudonym key kept: {pseudonym_key}")
    ledger_key = settings.ledger_key_path
    if create_ledger_key(settings):
        done.append(f"ledger signing key created: {ledger_key} (mode 0600)")
    else:
        done.append(f"ledger signing key kept: {ledger_key}")
    done.append(f"ledger verifier key: {read_ledger_signers(settings)[0].verifier}")
    return done


def create_ledger_key(settings: Settings) -> bool:
    """A new Ed25519 signing key named after the log's origin, unless one exists."""
    return _create_secret(
        settings.ledger_key_path, lambda: Signer.generate(settings.ledger_origin).secret()
    )


def _create_secret(path: Path, make: Callable[[], str]) -> bool:
    """Write a new secret file readable by its owner only, unless one exists."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make() + "\n")
    return True


def read_ledger_signers(settings: Settings) -> list[Signer]:
    """The ledger key, and during a rotation the previous one (`<key>.previous`), which
    co-signs checkpoints until verifiers have the new key (docs/LEDGER.md)."""
    path = settings.ledger_key_path
    signers = []
    for candidate in (path, path.with_name(path.name + ".previous")):
        try:
            text = candidate.read_text()
        except FileNotFoundError:
            if candidate == path:
                raise NotInitialised(
                    f"no ledger signing key at {path}: run `forvalg init` first"
                ) from None
            continue
        try:
            signers.append(Signer.parse(text))
        except NoteError as exc:
            raise NotInitialised(f"{candidate}: {exc}") from None
    return signers


def read_pseudonym_key(settings: Settings) -> bytes:
    path = settings.key_dir / PSEUDONYM_KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise NotInitialised(f"no pseudonym key at {path}: run `forvalg init` first") from None
    except ValueError:
        raise NotInitialised(f"{path}: not a pseudonym key (hex digits expected)") from None


def read_retired_pseudonym_keys(settings: Settings) -> list[bytes]:
    """The retired pseudonym keys (`pseudonym.retired/*.key`), newest first: kept for
    finding what was written under them (docs/SECURITY.md, "Key rotation")."""
    folder = settings.key_dir / RETIRED_PSEUDONYM_DIR
    found = []
    for path in sorted(folder.glob("*.key"), reverse=True) if folder.is_dir() else []:
        try:
            found.append(bytes.fromhex(path.read_text().strip()))
        except ValueError:
            raise NotInitialised(f"{path}: not a pseudonym key (hex digits expected)") from None
    return found


@dataclass(frozen=True)
class PseudonymRotation:
    retired: str  # the retired key's id
    current: str  # the new key's id
    kept: Path  # where the retired key is kept


def rotate_pseudonym_key(settings: Settings, *, at: datetime) -> PseudonymRotation:
    """Retire the pseudonym key and make a new one. The retired key is kept in
    `pseudonym.retired/` (0700; the file 0600) before the new one replaces it, so a
    crash in between leaves the old key current and kept twice, never lost. Processes
    read the keys at start: restart `serve` and `worker` afterwards."""
    old = read_pseudonym_key(settings)
    folder = settings.key_dir / RETIRED_PSEUDONYM_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    kept = folder / f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{pseudonym_key_id(old)}.key"
    if not kept.exists():
        replace_secret(kept, old.hex())
    new = secrets.token_bytes(32)
    replace_secret(settings.key_dir / PSEUDONYM_KEY_FILE, new.hex())
    return PseudonymRotation(pseudonym_key_id(old), pseudonym_key_id(new), kept)


def replace_secret(path: Path, secret: str) -> None:
    """Write a secret file (0600) by a temporary file renamed over `path`, synced: a
    crash leaves the old secret or the new one, never a torn file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: Callable[[datetime], str] = new_order_id,
    pseudonym_key: bytes | None = None,
    retired_pseudonym_keys: Sequence[bytes] = (),
    ledger_signers: list[Signer] | None = None,
) -> Services:
    """The services. Raises `PolicyInvalid` (with Cedar's error) before connecting if the
    policy does not validate."""
    policy = Policy.load(settings.policy_dir) if settings.policy_dir else Policy.load()
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    clock = clock or SystemClock()
    rules = settings.order_rules
    if pseudonym_key is not None:
        key, retired = pseudonym_key, list(retired_pseudonym_keys)
    else:
        key, retired = read_pseudonym_key(settings), read_retired_pseudonym_keys(settings)
    pseudonymiser = Pseudonymiser(key, retired)
    wall = Wall(sessions=sessions, pseudonymiser=pseudonymiser, clock=clock, policy=policy)
    keeper = LedgerKeeper(
        engine=engine,
        signers=ledger_signers or read_ledger_signers(settings),
        origin=settings.ledger_origin,
        clock=clock,
    )
    incidents = IncidentDesk(wall=wall, keeper=keeper)
    return Services(
        settings=settings,
        engine=engine,
        clock=clock,
        rules=rules,
        wall=wall,
        authenticator=Authenticator(wall=wall, sessions=sessions),
        desk=OrderDesk(wall=wall, rules=rules, clock=clock, ids=ids),
        processor=OrderProcessor(wall=wall, rules=rules),
        feed=EventFeed(wall),
        operators=OperatorAdmin(wall),
        cursors=Cursors(key, retired),
        keeper=keeper,
        transparency=TransparencyLog(wall=wall, keeper=keeper),
        users=UserAdmin(wall),
        work=WorkDesk(wall=wall, clock=clock),
        casework=Casework(wall),
        alerts=AlertDesk(wall),
        subscribers=SubscriberDesk(wall=wall, keeper=keeper),
        rating=RatingDesk(wall=wall),
        settlement=Settlement(wall=wall, clock=clock),
        statements=StatementDesk(wall),
        contacts=ContactDesk(wall),
        canaries=CanaryDesk(wall=wall, rules=rules, clock=clock, ids=ids),
        routing=RoutingExporter(wall),
        incidents=incidents,
        inquiries=InquiryDesk(wall=wall, keeper=keeper, calendar=rules.calendar),
        detection=DetectionDesk(
            wall=wall,
            keeper=keeper,
            incidents=incidents,
            calendar=rules.calendar,
            clock=clock,
        ),
        access_log=AccessLogSearch(wall=wall, keeper=keeper),
        queue=WorkQueueDesk(wall),
    )


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _one_line(exc: SQLAlchemyError) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def _check(engine: Engine) -> None:
    where = engine.url.render_as_string(hide_password=True)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not Path(database).exists():
        raise DatabaseUnavailable(f"{where}: no such database; run `forvalg init`")
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        hint = "(run `forvalg init` first?)"
        raise DatabaseUnavailable(f"{where}: {_one_line(exc)} {hint}") from None
    if version is None:
        raise DatabaseUnavailable(f"{where}: not initialised; run `forvalg init`")
