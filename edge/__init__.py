"""The agent on each home's hub: reads devices over MQTT, forwards canonical events, loses nothing."""
