"""pdw's records (SQLModel tables) and the typed payloads of workflows, updates and queries.

Import every table module here so that ``SQLModel.metadata`` (and so Alembic) sees them all.
"""

from models import (  # noqa: F401
    access,
    audit,
    auth,
    calendar,
    cases,
    catalog,
    catalog_register,
    correction,
    departments,
    dispute,
    evaluation,
    notices,
    open_data,
    projection,
    receipts,
    rectification,
    review,
    share,
)
