"""microfut web: the desk and the journal in the browser."""
