"""The only code that queries the override tables; always for one tenant, except where the name says so."""

from __future__ import annotations

from typing import Any

from mypage.db.base import utcnow
from mypage.overrides.images import CleanImage
from mypage.overrides.tables import ConfigVersion, MediaFile

DRAFT = "draft"
PUBLISHED = "published"


class ConfigVersionRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _select(self):
        return ConfigVersion.select().where(ConfigVersion.tenant == self.tenant)

    async def lock(self) -> None:
        """Serialises changes of this tenant's versions until the transaction ends (call first inside
        ``atomic()``): the next version number and the one live version hold under parallel requests. On
        SQLite the IMMEDIATE transaction already holds the write lock; PostgreSQL takes a transaction-scoped
        advisory lock on the tenant (rows inserted meanwhile would escape a row lock)."""
        engine = ConfigVersion._meta.db
        if engine.engine_type == "postgres":
            await ConfigVersion.raw("SELECT pg_advisory_xact_lock(hashtext({}))", f"tenant_config_versions:{self.tenant}")

    async def versions(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        return await self._select().order_by(ConfigVersion.version, ascending=False).limit(limit)

    async def get(self, version: int) -> dict[str, Any] | None:
        return await self._select().where(ConfigVersion.version == version).first()

    async def current(self) -> dict[str, Any] | None:
        return await self._select().where(ConfigVersion.current == True).first()  # noqa: E712  (a query, not a test)

    async def open_draft(self) -> dict[str, Any] | None:
        """The newest draft, if it is newer than every published version."""
        newest = await self._select().order_by(ConfigVersion.version, ascending=False).first()
        return newest if newest is not None and newest["status"] == DRAFT else None

    async def _next_version(self) -> int:
        rows = await ConfigVersion.raw(
            'SELECT COALESCE(MAX("version"), 0) + 1 AS "next" FROM "tenant_config_versions" WHERE "tenant" = {}', self.tenant
        )
        return int(rows[0]["next"])

    async def create(self, document: dict, author: str, *, status: str = DRAFT, restored_from: int | None = None) -> int:
        version = await self._next_version()
        await ConfigVersion.insert(
            ConfigVersion(
                tenant=self.tenant,
                version=version,
                status=status,
                document=document,
                author=author,
                restored_from=restored_from,
            )
        )
        return version

    async def update_document(self, version: int, document: dict, author: str) -> None:
        await ConfigVersion.update({ConfigVersion.document: document, ConfigVersion.author: author}).where(
            (ConfigVersion.tenant == self.tenant) & (ConfigVersion.version == version) & (ConfigVersion.status == DRAFT)
        )

    async def make_current(self, version: int, by: str) -> None:
        """Marks ``version`` published and live, and no other version live (call inside ``atomic()``)."""
        await ConfigVersion.update({ConfigVersion.current: False}).where(ConfigVersion.tenant == self.tenant)
        await ConfigVersion.update(
            {
                ConfigVersion.current: True,
                ConfigVersion.status: PUBLISHED,
                ConfigVersion.published_at: utcnow(),
                ConfigVersion.published_by: by,
            }
        ).where((ConfigVersion.tenant == self.tenant) & (ConfigVersion.version == version))

    async def discard_draft(self, version: int) -> None:
        await ConfigVersion.delete().where(
            (ConfigVersion.tenant == self.tenant) & (ConfigVersion.version == version) & (ConfigVersion.status == DRAFT)
        )


async def current_versions_of_all_tenants() -> dict[str, tuple[int, dict]]:
    """Cross-tenant, for the portal's reload: every tenant's live version and document, by tenant."""
    rows = await ConfigVersion.select(ConfigVersion.tenant, ConfigVersion.version, ConfigVersion.document).where(
        ConfigVersion.current == True  # noqa: E712
    )
    return {row["tenant"]: (row["version"], _document(row["document"])) for row in rows}


def _document(value: Any) -> dict:
    if isinstance(value, str):  # Piccolo answers JSON as text on some engines
        import json

        return json.loads(value)
    return value or {}


def document_of(row: dict[str, Any]) -> dict:
    return _document(row["document"])


class MediaRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    async def add(self, image: CleanImage, author: str) -> str:
        """Stores the image unless it is already stored; returns its name."""
        if await self.get(image.name) is None:
            await MediaFile.insert(
                MediaFile(
                    tenant=self.tenant,
                    name=image.name,
                    content_type=image.content_type,
                    data=image.data,
                    width=image.width,
                    height=image.height,
                    author=author,
                )
            )
        return image.name

    async def get(self, name: str) -> dict[str, Any] | None:
        return await MediaFile.select().where((MediaFile.tenant == self.tenant) & (MediaFile.name == name)).first()

    async def exists(self, name: str) -> bool:
        return await MediaFile.exists().where((MediaFile.tenant == self.tenant) & (MediaFile.name == name))
