"""Tenant configuration overrides: what tenant staff change in the console (branding, logo, contact, wording,
menus, home notes, features), stored as numbered versions merged onto ``tenant.toml`` and validated by the
same schema; drafts are previewed, a published version applies on every worker without a restart."""
