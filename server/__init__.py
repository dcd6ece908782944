"""HomeSafe server: turns gateway alerts into stored alerts and notifications that reach a human."""
