"""Transactional outbox and SMTP delivery."""
