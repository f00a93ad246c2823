"""The marketplace's HTTP API: app factory, dependencies, authentication and error mapping."""
