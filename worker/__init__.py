"""The worker face: Celery workers of distributed backfills (``sohoa worker``), calling the application layer."""
