"""Running the API: health, Prometheus metrics, the web UI's serving, the background jobs' runner and the
server processes."""
