"""Pages and forms of the HTTP functions (recipient pages; the staff console next)."""
