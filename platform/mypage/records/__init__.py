"""The operator's own records: customers, contracts, invoices, call records, documents, notices."""
