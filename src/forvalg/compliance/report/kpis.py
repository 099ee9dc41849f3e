"""The equivalence KPIs as the report shows them: rates, percentiles and the lead-time
histogram, from the counts of `domain.equivalence.KpiTally` (docs/REPORT.md)."""

from __future__ import annotations

from typing import Any

from forvalg.domain.equivalence import KpiTally, percentile

PERCENTILES = (10, 50, 90)


def rate(part: int, whole: int) -> float | None:
    """`part / whole` to four decimals; None when there is nothing to divide by."""
    return None if whole == 0 else round(part / whole, 4)


def kpi_block(counts: KpiTally) -> dict[str, Any]:
    """One party's KPIs (an operator, or the incumbent's retail) as JSON."""
    histogram = counts.lead_days
    measured = counts.measured
    mean = (
        None
        if measured == 0
        else round(sum(days * n for days, n in histogram.items()) / measured, 2)
    )
    timed = counts.on_due_date + counts.before_due_date + counts.after_due_date
    cancel_requests = counts.cancelled + counts.cutoff_misses
    return {
        "received": counts.received,
        "completed": counts.completed,
        "open": counts.open,
        "rejected": counts.rejected,
        "rejection_rate": rate(counts.rejected, counts.received),
        "rejections": dict(sorted(counts.rejections.items(), key=lambda kv: (-kv[1], kv[0]))),
        "cancelled": counts.cancelled,
        "cancellation_rate": rate(counts.cancelled, counts.received),
        "cancellations": dict(sorted(counts.cancellations.items())),
        "cutoff_misses": counts.cutoff_misses,
        "cutoff_miss_rate": rate(counts.cutoff_misses, cancel_requests),
        "lead_time_working_days": {
            "measured": measured,
            **{f"p{q}": percentile(histogram, q) for q in PERCENTILES},
            "mean": mean,
            "histogram": {str(d): histogram[d] for d in sorted(histogram)},
        },
        "due_date": {
            "measured": timed,
            "on": counts.on_due_date,
            "before": counts.before_due_date,
            "after": counts.after_due_date,
            "on_share": rate(counts.on_due_date, timed),
        },
    }
