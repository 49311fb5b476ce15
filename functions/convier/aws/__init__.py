"""AWS resources and SES calls that are not plain table reads and writes."""
