"""pdw's records (SQLModel tables) and the typed payloads of workflows, updates and queries.

Import every table module here so that ``SQLModel.metadata`` (and so Alembic) sees them all.
"""

from models import audit, calendar, cases, catalog, correction, departments, dispute, notices, share  # noqa: F401
