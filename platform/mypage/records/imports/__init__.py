"""The CSV import of each kind of record (``mypage import``); the entry points are in ``mypage.records.importer``."""
