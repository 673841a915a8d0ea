"""Docker adapters: the engine (build, tag, push, prune), registry credentials, a local run."""
