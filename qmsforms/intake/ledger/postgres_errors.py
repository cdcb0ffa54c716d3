"""The PostgreSQL ledger's errors of reach: the database out of reach, a lock held too long,
and a URL as it may be shown (`PostgresLedger` and its claim locks raise them; re-exported by
`qmsforms.intake.ledger.postgres`)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .store import LedgerError


def redact(url: str) -> str:
    """``url`` as it may be shown: without a password, should one be there."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def unavailable_error(url: str, exc: BaseException | str) -> LedgerError:
    """``LEDGER_UNAVAILABLE``: the database at ``url`` cannot be reached (or was lost)."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return LedgerError(
        "LEDGER_UNAVAILABLE",
        f"无法连接台账数据库 {redact(url)}({detail})。文件留在收件箱中,数据库恢复后自动继续处理;"
        "请检查数据库服务器、网络以及 pgpass / 服务文件。",
        f"cannot reach the ledger database {redact(url)} ({detail}). Files stay in the inbox "
        "and are taken once the database is back; check the database server, the network and "
        "the pgpass or service file.")


def busy_error(url: str) -> LedgerError:
    """``LEDGER_BUSY``: another writer held a lock of the ledger past the timeout."""
    return LedgerError(
        "LEDGER_BUSY",
        f"台账数据库 {redact(url)} 的锁被另一个进程长时间占用,稍后重试。",
        f"another process held a lock of the ledger database {redact(url)} too long; "
        "try again later.")
