"""CSV imports in the console: upload, progress, per-line errors, history."""
