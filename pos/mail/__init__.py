"""E-mail delivery: building ticket mails and talking SMTP (an adapter; the outbox is in pos.db)."""
