"""PostgreSQL persistence: pool, versioned migrations and repositories.

``create_pool`` opens the pool, ``migrate`` brings the schema up to date, and the repository
modules (``campaigns``, ``contacts``, ``calls``, ``dnc``, ``knowledge``...) are the only code
that writes SQL.
"""

from runtime.db.migrate import MigrationError, migrate
from runtime.db.pool import connect, create_pool, database_url

__all__ = ["MigrationError", "connect", "create_pool", "database_url", "migrate"]
