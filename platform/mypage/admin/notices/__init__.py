"""お知らせ in the console: write, preview, schedule or publish, pin, expire."""
