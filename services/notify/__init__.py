"""notify: tells residents, agencies and IOC operators about their reports, and streams status."""
