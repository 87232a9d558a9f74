"""Database adapter: schema, engine set-up and migrations."""
