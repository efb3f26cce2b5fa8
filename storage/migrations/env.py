"""Alembic environment: sohoa runs migrations in-process on the connection it hands over."""

from alembic import context

from storage.index.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
