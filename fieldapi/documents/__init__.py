"""Documents: a job's estimates and invoices, their numbers, totals, revisions, PDF and
the customer's link."""
