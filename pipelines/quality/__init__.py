"""Dataset-level quality gates, as Great Expectations 1.x suites generated from the contract."""
