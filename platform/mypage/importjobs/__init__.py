"""CSV imports uploaded in the console: queued as jobs, run by the job worker with the CLI's validation
(``records.importer``), with progress, a per-line error report and a history."""
