"""AWS adapters: one module per service, injected boto3 clients, no printing."""
