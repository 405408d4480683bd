"""Who may do what: API keys and their roles and scopes, users, passwords and log-in, the principal of a
request (FastAPI dependencies), the audit log; the routes of keys, users and the audit log."""
