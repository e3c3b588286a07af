"""The page after login: the tenant's menus, notes and notices."""
