"""From the working warehouse to what analysts open: the blocking checks that prove the
indicators, their append-only history, and the atomic swap of the published warehouse."""
