"""The device bridge at a site: weighbridge indicators (serial, Modbus) and gate cameras in,
weigh tickets out, through a local outbox to the hub (see runner.py for the wiring)."""
