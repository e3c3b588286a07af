"""Background work of the server process: CSV imports uploaded in the console, scheduled お知らせ mails."""
