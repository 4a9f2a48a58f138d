"""高空抛物 evaluation: generated facade clips, scoring, the report and its chart."""
