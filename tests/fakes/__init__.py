"""Local stand-ins for third-party services HomeSafe talks to, each enforcing the service's documented contract."""
