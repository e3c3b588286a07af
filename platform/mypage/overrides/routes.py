"""``/media/<name>``: images uploaded in the console (logos), served from the database to every worker."""

from __future__ import annotations

import re

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.overrides.repository import MediaRepository
from mypage.web.render import tenant_of

MEDIA_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


@get("/media/{name:str}", include_in_schema=False)
async def media_file(request: Request, name: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    if not MEDIA_NAME.match(name):
        raise NotFoundException()
    if tenant.logo is not None and tenant.config.branding.logo_url == f"/media/{name}":
        content_type, data = tenant.logo  # the live logo, kept in memory by every worker
    else:
        row = await MediaRepository(tenant.slug).get(name)
        if row is None:
            raise NotFoundException()
        content_type, data = row["content_type"], bytes(row["data"])
    # The name is the content's hash: the file never changes.
    return Response(content=data, media_type=content_type, headers={"cache-control": "public, max-age=31536000, immutable"})


ROUTES = [media_file]
