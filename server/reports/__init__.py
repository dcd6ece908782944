"""Reports computed from the stored rows: visiting care (rates, who is overdue) and their charts."""
