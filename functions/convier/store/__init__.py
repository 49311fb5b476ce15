"""The table: the only code that spells keys (store/keys.py) and DynamoDB expressions."""
