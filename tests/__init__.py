"""Controller-side test suites and their support code."""
