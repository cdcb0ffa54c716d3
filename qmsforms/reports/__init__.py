"""Reports for the management review: satisfaction, complaints and on-time delivery.

Each report is built as data first (a frozen dataclass with ``to_dict``, what ``--json``
prints) and rendered separately to an .xlsx with native charts, band colours and an A4
landscape print setup.
"""

from __future__ import annotations

from .complaints import (
    AgeBucket,
    CategoryTrend,
    CompareRow,
    ComplaintReport,
    CustomerCount,
    ParetoRow,
    SlaLine,
    build_complaints,
    complaint_report,
)
from .complaints_xlsx import save_complaints, write_complaints
from .delivery import (
    DeliveryMonth,
    IssuedSheet,
    delivery_performance,
    issue_monitoring_sheets,
    monitoring_prefill,
    on_time_rate,
)
from .satisfaction import (
    CustomerYear,
    ItemAverage,
    SatisfactionReport,
    SurveyLine,
    build_satisfaction,
    satisfaction_report,
)
from .satisfaction_xlsx import save_satisfaction, write_satisfaction
from .tickets import Ticket

__all__ = [
    "AgeBucket",
    "CategoryTrend",
    "CompareRow",
    "ComplaintReport",
    "CustomerCount",
    "CustomerYear",
    "DeliveryMonth",
    "IssuedSheet",
    "ItemAverage",
    "ParetoRow",
    "SatisfactionReport",
    "SlaLine",
    "SurveyLine",
    "Ticket",
    "build_complaints",
    "build_satisfaction",
    "complaint_report",
    "delivery_performance",
    "issue_monitoring_sheets",
    "monitoring_prefill",
    "on_time_rate",
    "satisfaction_report",
    "save_complaints",
    "save_satisfaction",
    "write_complaints",
    "write_satisfaction",
]
