"""Grid cases (网格事件): the workflow, the store, and the audit log."""
