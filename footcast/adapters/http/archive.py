"""The HTTP archive: every distinct version of a URL's bytes, kept in the warehouse.

The table ``http_archive`` is keyed by (url, content_hash), so a raw row's lineage (url,
sha256) always resolves to the exact bytes (:meth:`HttpArchive.archived`). Only complete 2xx
bodies are written, in one statement, after the download succeeded: a failed fetch never
touches the archive. Re-checks are conditional: the newest version's validators (ETag,
Last-Modified) go out as If-None-Match / If-Modified-Since, and a 304 records the check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from footcast.adapters.redaction import redact_url
from footcast.adapters.warehouse import Warehouse, http_archive

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchivedVersion:
    """One row of ``http_archive`` without its bytes."""

    url: str
    content_hash: str
    status: int
    etag: str | None
    last_modified: str | None
    content_type: str | None
    fetched_at: datetime
    last_checked_at: datetime


def archive_keys(url: str) -> list[str]:
    """Where ``http_archive`` may hold ``url``'s versions.

    New versions are stored under the redacted URL (so the archive holds no credentials and a
    stored lineage URL finds its bytes); versions archived before redaction was introduced sit
    under the URL as it was fetched, credentials included, and stay readable through it.
    """
    shown = redact_url(url)
    return [shown] if shown == url else [shown, url]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- conditional requests ----------------------------------------------------------------------


def is_fresh(version: ArchivedVersion, max_age: timedelta | None) -> bool:
    """Whether ``version`` is served without asking the network: ``max_age=None`` means immutable,
    else its last check must be younger than ``max_age``."""
    return max_age is None or _utcnow() - version.last_checked_at < max_age


def conditional_headers(version: ArchivedVersion | None) -> dict[str, str]:
    """The request headers that ask for ``version``'s bytes only if they changed."""
    headers: dict[str, str] = {}
    if version is not None:
        if version.etag:
            headers["If-None-Match"] = version.etag
        if version.last_modified:
            headers["If-Modified-Since"] = version.last_modified
    return headers


# -- the table ---------------------------------------------------------------------------------


class HttpArchive:
    """The versions in ``http_archive`` (the table is created if missing; ``Warehouse.create_all``
    creates it too)."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        with warehouse.engine.begin() as conn:
            http_archive.create(conn, checkfirst=True)

    def archived(self, url: str, content_hash: str) -> bytes:
        """The exact bytes archived for ``url`` with that sha256; LookupError if there are none.

        ``url`` as fetched or as reported (redacted): both find the same bytes.
        """
        query = (
            sa.select(http_archive.c.content)
            .where(http_archive.c.url.in_(archive_keys(url)), http_archive.c.content_hash == content_hash)
            .limit(1)
        )
        with self.warehouse.engine.connect() as conn:
            content = conn.execute(query).scalar_one_or_none()
        if content is None:
            raise LookupError(f"no archived version of {redact_url(url)} with sha256 {content_hash}")
        return bytes(content)

    def versions(self, url: str) -> list[ArchivedVersion]:
        """Every archived version of ``url``, newest check first (urls redacted)."""
        return [
            ArchivedVersion(**{**version.__dict__, "url": redact_url(version.url)})
            for version in self._query_versions(url)
        ]

    @staticmethod
    def _meta_columns() -> list[sa.Column]:
        return [c for c in http_archive.columns if c.name != "content"]

    @staticmethod
    def _version_from_row(row: Any) -> ArchivedVersion:
        return ArchivedVersion(
            url=row.url,
            content_hash=row.content_hash,
            status=row.status,
            etag=row.etag,
            last_modified=row.last_modified,
            content_type=row.content_type,
            fetched_at=_aware(row.fetched_at),
            last_checked_at=_aware(row.last_checked_at),
        )

    def rekey(self, url: str, shown: str) -> None:
        """Move versions archived under ``url`` (credentials included, as archives written before
        redaction have them) to its redacted key ``shown``, where new versions go and where a stored
        lineage URL finds them. A version already under ``shown`` wins. The old key stays readable
        meanwhile (:func:`archive_keys`), so losing a race with another process is harmless."""
        legacy = http_archive.c.url == url
        with self.warehouse.engine.connect() as conn:
            if conn.execute(sa.select(http_archive.c.content_hash).where(legacy).limit(1)).first() is None:
                return
        try:
            with self.warehouse.engine.begin() as conn:
                known = sa.select(http_archive.c.content_hash).where(http_archive.c.url == shown)
                conn.execute(http_archive.delete().where(legacy, http_archive.c.content_hash.in_(known)))
                conn.execute(http_archive.update().where(legacy).values(url=shown))
        except sa.exc.IntegrityError:  # pragma: no cover - a concurrent fetch re-keyed or stored it first
            logger.debug("re-keying the archive of %s lost a race; the next fetch retries", shown)

    def latest(self, url: str) -> ArchivedVersion | None:
        versions = self._query_versions(url, limit=1)
        return versions[0] if versions else None

    def _query_versions(self, url: str, limit: int | None = None) -> list[ArchivedVersion]:
        """Versions under every key of ``url`` (:func:`archive_keys`), each with its stored key."""
        query = (
            sa.select(*self._meta_columns())
            .where(http_archive.c.url.in_(archive_keys(url)))
            .order_by(http_archive.c.last_checked_at.desc(), http_archive.c.fetched_at.desc())
            .limit(limit)
        )
        with self.warehouse.engine.connect() as conn:
            return [self._version_from_row(row) for row in conn.execute(query)]

    def mark_checked(self, version: ArchivedVersion, headers: Mapping[str, str]) -> ArchivedVersion:
        """Record a 304: the archived version is still current (refresh its validators)."""
        now = _utcnow()
        values: dict[str, Any] = {"last_checked_at": _naive(now)}
        changes: dict[str, Any] = {"last_checked_at": now}
        for header, column in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if headers.get(header):
                values[column] = changes[column] = headers[header]
        with self.warehouse.engine.begin() as conn:
            conn.execute(
                http_archive.update()
                .where(
                    http_archive.c.url == version.url,
                    http_archive.c.content_hash == version.content_hash,
                )
                .values(**values)
            )
        return ArchivedVersion(**{**version.__dict__, **changes})

    def store(self, version: ArchivedVersion, content: bytes) -> ArchivedVersion:
        """Insert a new version, or refresh the check time and validators of a known one.

        One atomic statement (INSERT ... ON CONFLICT) on SQLite and PostgreSQL, so concurrent
        fetches of the same bytes cannot collide and ``fetched_at`` keeps the first download.
        """
        row = {
            "url": version.url,
            "content_hash": version.content_hash,
            "status": version.status,
            "content": content,
            "etag": version.etag,
            "last_modified": version.last_modified,
            "content_type": version.content_type,
            "fetched_at": _naive(version.fetched_at),
            "last_checked_at": _naive(version.last_checked_at),
        }
        refreshed = ("status", "etag", "last_modified", "content_type", "last_checked_at")
        dialect = self.warehouse.engine.dialect.name
        with self.warehouse.engine.begin() as conn:
            if dialect in ("postgresql", "sqlite"):
                insert = (postgresql if dialect == "postgresql" else sqlite).insert(http_archive)
                statement = insert.values(row).on_conflict_do_update(
                    index_elements=[http_archive.c.url, http_archive.c.content_hash],
                    set_={name: insert.excluded[name] for name in refreshed},
                )
                conn.execute(statement)
            else:  # pragma: no cover - other dialects: portable, not race-free
                updated = conn.execute(
                    http_archive.update()
                    .where(
                        http_archive.c.url == version.url,
                        http_archive.c.content_hash == version.content_hash,
                    )
                    .values({name: row[name] for name in refreshed})
                )
                if updated.rowcount == 0:
                    conn.execute(http_archive.insert().values(row))
            fetched_at = conn.execute(
                sa.select(http_archive.c.fetched_at).where(
                    http_archive.c.url == version.url,
                    http_archive.c.content_hash == version.content_hash,
                )
            ).scalar_one()
        return ArchivedVersion(**{**version.__dict__, "fetched_at": _aware(fetched_at)})
