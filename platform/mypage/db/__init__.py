"""Database engine selection and the tenant-owned table base."""
