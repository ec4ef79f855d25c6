"""Protocol definitions (conditions, durations, failure rules) and the KPI definitions they use."""
