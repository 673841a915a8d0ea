"""SFTP adapters: the client, the remote manifest and the parallel tree sync."""
