"""AWS adapters: one module per service, every boto3 call of ctsite; each is handed the client
factory of `clients` (never a raw client) and prints nothing."""
