"""Web basics: sessions, CSRF, security headers, templates, error pages."""
