"""One module per process, plus the case view and the deadline ladder they all use."""
