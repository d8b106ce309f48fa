"""What staff and systems can do, once: start each process, decide, show, lists, records and
administration. The API calls it; nothing here knows about HTTP or the command line."""
