"""The registry beyond single records: record kinds, who may see what, on-call windows, CSV import."""
