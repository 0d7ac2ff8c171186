"""Indicators for people who do not write SQL: a spreadsheet and an HTML report, both
read from the published warehouse (``union-warehouse export``)."""
