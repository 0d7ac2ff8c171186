"""The streets' side of the contract: fill-in templates, and a receipt for every file.

``templates`` writes one spreadsheet per dataset for the clerks; ``receipts`` tells each
street, file by file, what was loaded and what to fix (``outcome`` decides the one status
a receipt states, ``locations`` its file name); ``summaries`` keeps per-run,
per-street counts (no personal data) for the warehouse's ``audit`` schema; ``cli`` adds
``union-warehouse template``. Everything reads the contract (``pipelines.contract``) and
the ingestion outputs; nothing here changes them.
"""
