"""The neutral core, below everything and importing nothing else of curadebt: the document, the
measure protocol, the errors and exit codes, atomic file writes."""
