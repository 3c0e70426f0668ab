"""Review of the journal: pandas frames, statistics that teach, and plots."""
