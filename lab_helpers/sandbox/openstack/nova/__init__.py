"""Nova (compute): servers and what surrounds them, placement on the modelled hosts, SU metering."""
