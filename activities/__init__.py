"""Everything with side effects: the store, the calendar, notices."""
