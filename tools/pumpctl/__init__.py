"""pumpctl: the host programmer for the pump's shell (SPEC 10)."""
