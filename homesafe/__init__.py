"""The `homesafe` command: composes edge, gateway, server and simulators into runnable processes."""
