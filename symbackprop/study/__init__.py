"""The learning-rate study: one run per rate (runs), a verdict for each (verdicts), the report
(report) and the loss curves (plots)."""
