"""The hall's local queue server: numbering, calling, events, evaluations, web pages."""
