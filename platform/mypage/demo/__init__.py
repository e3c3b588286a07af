"""Demo data: ``loader`` (the realistic per-tenant records of ``mypage demo``, from ``tenants/<slug>/demo.toml``)
and ``scale`` (``mypage demo --scale N``: many generated customers, written with COPY on PostgreSQL)."""
