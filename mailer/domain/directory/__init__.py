"""The CSP directory: loading the ONS lists, finding partnerships, keeping their contact
details current (staff, suggestions, the partnerships themselves)."""
