"""The staff back office, under /staff: one module per feature adds routes to the blueprint
defined in `base`. Importing this package imports every route module, so the factory
registers one complete blueprint."""
from app.blueprints.staff import (  # noqa: F401  (route modules)
    admin, appeals, audit_log, bank, cases, commendation, dashboard, donations, donors, imports, jobs, once,
    online,
    receipts, reports,
)
from app.blueprints.staff import donor_accounts  # noqa: F401,E402  (issue 16)
from app.blueprints.staff import bank_layouts  # noqa: F401,E402  (issue 13: statement layouts)
from app.blueprints.staff.base import bp

__all__ = ["bp"]
